"""Uploads kept while their columns are chosen: a file whose headers do not say which
column is which is kept, bytes and all, so that choosing the columns starts its import
(or preview) with no second upload.

The bytes are kept in PostgreSQL (`pending_upload_chunks`, 1 MB a row) rather than on a
local disk: any web process may take the mapping, and web and worker need not share a
disk. The file is kept as it was sent (compressed, a workbook, ...) and read again by the
same intake as any upload, so it gets every check once more. A kept upload belongs to
whoever sent it, and is dropped when its import starts or after
`PENDING_UPLOAD_TTL_MINUTES` (on the next keep or use, and by the workers' sweep).
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from typing import IO, Any

import psycopg

from product_importer import db
from product_importer.models import PendingUpload
from product_importer.settings import settings

# Bytes in one stored piece of a kept upload.
CHUNK_BYTES = 1 << 20
# A request that took a kept upload and never let go of it (its process died) holds it
# no longer than this.
CLAIM_HOLD_S = 15 * 60


class PendingUploadNotFound(LookupError):
    def __init__(self, upload_id: str) -> None:
        super().__init__(
            f"no kept upload {upload_id!r} of yours: it expired (after "
            f"{settings.pending_upload_ttl_minutes:g} minutes), was imported already, or "
            "was sent by someone else; send the file again"
        )


class PendingUploadBusy(RuntimeError):
    def __init__(self, upload_id: str) -> None:
        super().__init__(f"the kept upload {upload_id!r} is being imported already")


def expire_pending_uploads(conn: psycopg.Connection) -> int:
    """Drop every kept upload past its time (with its bytes); answer how many."""
    return conn.execute("DELETE FROM pending_uploads WHERE expires_at <= now()").rowcount


def _model(cur: psycopg.Cursor, row: tuple[Any, ...] | None) -> PendingUpload | None:
    if row is None:
        return None
    names = [d.name for d in cur.description or ()]
    return PendingUpload.model_validate(dict(zip(names, row, strict=True)))


def keep_upload(
    owner: str,
    filename: str,
    sheet: str | None,
    headers: list[str],
    data: IO[bytes],
    *,
    ttl_s: float | None = None,
) -> PendingUpload:
    """Store the bytes of `data` (from its start) as a kept upload of `owner`, for
    `ttl_s` (default PENDING_UPLOAD_TTL_MINUTES)."""
    data.seek(0)
    upload_id = "pu_" + secrets.token_urlsafe(18)
    with db.pooled_connection() as conn:
        expire_pending_uploads(conn)
        conn.execute(
            """INSERT INTO pending_uploads (id, owner, filename, sheet, headers, expires_at)
               VALUES (%s, %s, %s, %s, %s::jsonb, now() + make_interval(secs => %s))""",
            (
                upload_id,
                owner,
                filename,
                sheet,
                json.dumps(headers),
                settings.pending_upload_ttl_minutes * 60 if ttl_s is None else ttl_s,
            ),
        )
        size = 0
        seq = 0
        while piece := data.read(CHUNK_BYTES):
            conn.execute(
                "INSERT INTO pending_upload_chunks (upload_id, seq, data) VALUES (%s, %s, %s)",
                (upload_id, seq, piece),
            )
            size += len(piece)
            seq += 1
        cur = conn.execute(
            "UPDATE pending_uploads SET file_size = %s WHERE id = %s RETURNING *",
            (size, upload_id),
        )
        kept = _model(cur, cur.fetchone())
        conn.commit()
    assert kept is not None
    return kept


def handle(kept: PendingUpload) -> dict[str, object]:
    """What a client is told of a kept upload, to post its mapping to."""
    return {
        "id": kept.id,
        "filename": kept.filename,
        "file_size": kept.file_size,
        "expires_at": kept.expires_at.isoformat(),
    }


def claim_upload(upload_id: str, owner: str) -> PendingUpload:
    """Take a kept upload of `owner` to import it. Raises PendingUploadNotFound (unknown,
    expired or someone else's), PendingUploadBusy (another request has it)."""
    with db.pooled_connection() as conn:
        expire_pending_uploads(conn)
        cur = conn.execute(
            """UPDATE pending_uploads SET claimed_at = now()
               WHERE id = %s AND owner = %s
                 AND (claimed_at IS NULL OR claimed_at < now() - make_interval(secs => %s))
               RETURNING *""",
            (upload_id, owner, CLAIM_HOLD_S),
        )
        claimed = _model(cur, cur.fetchone())
        busy = (
            claimed is None
            and conn.execute(
                "SELECT 1 FROM pending_uploads WHERE id = %s AND owner = %s", (upload_id, owner)
            ).fetchone()
        )
        conn.commit()
    if claimed is not None:
        return claimed
    if busy:
        raise PendingUploadBusy(upload_id)
    raise PendingUploadNotFound(upload_id)


def owner_of(upload_id: str) -> str:
    """Who sent a kept upload; raises PendingUploadNotFound."""
    with db.pooled_connection() as conn:
        row = conn.execute(
            "SELECT owner FROM pending_uploads WHERE id = %s AND expires_at > now()",
            (upload_id,),
        ).fetchone()
    if row is None:
        raise PendingUploadNotFound(upload_id)
    return str(row[0])


def get_upload(upload_id: str, owner: str) -> PendingUpload:
    """A kept upload of `owner`; raises PendingUploadNotFound."""
    with db.pooled_connection() as conn:
        cur = conn.execute(
            "SELECT * FROM pending_uploads WHERE id = %s AND owner = %s AND expires_at > now()",
            (upload_id, owner),
        )
        found = _model(cur, cur.fetchone())
    if found is None:
        raise PendingUploadNotFound(upload_id)
    return found


def release_upload(upload_id: str) -> None:
    """Let a claimed upload be taken again (its import was refused: try another mapping)."""
    with db.pooled_connection() as conn:
        conn.execute("UPDATE pending_uploads SET claimed_at = NULL WHERE id = %s", (upload_id,))
        conn.commit()


def forget_upload(upload_id: str, owner: str | None = None) -> bool:
    """Drop a kept upload and its bytes (its import started, or the user gave up)."""
    with db.pooled_connection() as conn:
        if owner is None:
            gone = conn.execute("DELETE FROM pending_uploads WHERE id = %s", (upload_id,))
        else:
            gone = conn.execute(
                "DELETE FROM pending_uploads WHERE id = %s AND owner = %s", (upload_id, owner)
            )
        conn.commit()
    return bool(gone.rowcount)


def _piece(upload_id: str, seq: int) -> bytes | None:
    with db.pooled_connection() as conn:
        row = conn.execute(
            "SELECT data FROM pending_upload_chunks WHERE upload_id = %s AND seq = %s",
            (upload_id, seq),
        ).fetchone()
    return None if row is None else bytes(row[0])


async def upload_bytes(upload_id: str) -> AsyncIterator[bytes]:
    """A kept upload's bytes, piece by piece, as an upload's chunks arrive."""
    seq = 0
    while (piece := await asyncio.to_thread(_piece, upload_id, seq)) is not None:
        yield piece
        seq += 1
