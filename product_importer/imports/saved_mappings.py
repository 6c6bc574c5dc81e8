"""Column mappings saved under a name, for one set of header names.

A file whose header set (names normalised as `csvfile.mapping.normalise_header` does,
order and repeats ignored) is that of a saved mapping is read with it, without asking
(`intake.receive_import`); the job records which one. Editors save mappings (the column
chooser, `POST /api/mappings`); admins rename, change and delete them.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg
import psycopg.errors

from product_importer import db
from product_importer.csvfile.mapping import (
    FIELDS,
    MappingProblem,
    apply_mapping,
    normalise_header,
)
from product_importer.models import SavedMapping

# The longest name a saved mapping may have.
MAX_NAME_CHARS = 100
# Most header names a saved mapping keeps (a real export has a few hundred at most).
MAX_HEADERS = 2000


class SavedMappingNotFound(LookupError):
    def __init__(self, mapping_id: int) -> None:
        super().__init__(f"saved mapping {mapping_id} not found")


class SavedMappingInvalid(MappingProblem):
    """A saved mapping's name, headers or columns cannot be used (the message says which)."""


class MappingNameTaken(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"name: a saved mapping is already called {name!r} (in any letter case)")


def header_key(headers: list[str] | tuple[str, ...]) -> str:
    """What a file's header is matched by: its normalised names, each once, sorted."""
    names = sorted({n for h in headers if (n := normalise_header(h))})
    return "\x1f".join(names)


def _clean_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise SavedMappingInvalid("name: give the mapping a name")
    name = " ".join(name.split())
    if len(name) > MAX_NAME_CHARS:
        raise SavedMappingInvalid(
            f"name: at most {MAX_NAME_CHARS} characters (this one has {len(name)})"
        )
    if any(not c.isprintable() for c in name):
        raise SavedMappingInvalid("name: no control characters")
    return name


def _clean_headers(headers: object) -> list[str]:
    if (
        not isinstance(headers, list | tuple)
        or not headers
        or not all(isinstance(h, str) for h in headers)
    ):
        raise SavedMappingInvalid("headers: a list of the file's header names is needed")
    if len(headers) > MAX_HEADERS:
        raise SavedMappingInvalid(f"headers: at most {MAX_HEADERS:,} names")
    if any("\x00" in h for h in headers):
        raise SavedMappingInvalid("headers: a name contains a NUL character")
    cleaned = [h.replace("\ufeff", "").strip() for h in headers]
    if not header_key(cleaned):
        raise SavedMappingInvalid("headers: the names are empty")
    return cleaned


def checked_columns(headers: list[str], columns: object) -> dict[str, str | None]:
    """{field: header} for every field, as the mapping reads `headers` (fields left out of
    `columns` take the clear suggestion; null leaves an optional field out). Raises
    SavedMappingInvalid naming an unknown field, a column not in the headers, a required
    field without a column or a column given twice."""
    if not isinstance(columns, dict) or not all(
        isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in columns.items()
    ):
        raise SavedMappingInvalid(
            'columns: a JSON object of field to header is needed, like {"sku": "Variant SKU"}'
        )
    try:
        positions = apply_mapping(headers, columns)
    except MappingProblem as exc:
        raise SavedMappingInvalid(f"columns: {exc}") from None
    return {f: (headers[positions[f]] if f in positions else None) for f in FIELDS}


_SELECT = "SELECT * FROM saved_mappings"


def _row(conn: psycopg.Connection, query: str, params: Any = None) -> SavedMapping | None:
    cur = conn.execute(query, params)
    row = cur.fetchone()
    if row is None:
        return None
    names = [d.name for d in cur.description or ()]
    return SavedMapping.model_validate(dict(zip(names, row, strict=True)))


def list_mappings() -> list[SavedMapping]:
    """Every saved mapping, by name."""
    with db.pooled_connection() as conn:
        cur = conn.execute(f"{_SELECT} ORDER BY lower(name), id")
        names = [d.name for d in cur.description or ()]
        return [
            SavedMapping.model_validate(dict(zip(names, row, strict=True)))
            for row in cur.fetchall()
        ]


def get_mapping(mapping_id: int) -> SavedMapping:
    """One saved mapping; raises SavedMappingNotFound."""
    with db.pooled_connection() as conn:
        found = _row(conn, f"{_SELECT} WHERE id = %s", (mapping_id,))
    if found is None:
        raise SavedMappingNotFound(mapping_id)
    return found


def mapping_for_headers(headers: list[str] | tuple[str, ...]) -> SavedMapping | None:
    """The saved mapping made for this header set (the latest changed one, if several)."""
    key = header_key(headers)
    if not key:
        return None
    with db.pooled_connection() as conn:
        return _row(
            conn,
            f"{_SELECT} WHERE header_key = %s ORDER BY updated_at DESC, id DESC LIMIT 1",
            (key,),
        )


def create_mapping(
    name: object, headers: object, columns: object, *, created_by: str | None = None
) -> SavedMapping:
    """Save a mapping for a header set. Raises SavedMappingInvalid, MappingNameTaken."""
    clean_name = _clean_name(name)
    clean_headers = _clean_headers(headers)
    clean_columns = checked_columns(clean_headers, columns)
    with db.pooled_connection() as conn:
        try:
            saved = _row(
                conn,
                """INSERT INTO saved_mappings (name, header_key, headers, columns, created_by)
                   VALUES (%s, %s, %s::jsonb, %s::jsonb, %s) RETURNING *""",
                (
                    clean_name,
                    header_key(clean_headers),
                    json.dumps(clean_headers),
                    json.dumps(clean_columns),
                    created_by,
                ),
            )
        except psycopg.errors.UniqueViolation:
            raise MappingNameTaken(clean_name) from None
        conn.commit()
    assert saved is not None
    return saved


def update_mapping(mapping_id: int, *, name: object = None, columns: object = None) -> SavedMapping:
    """Rename a saved mapping and/or change some of its columns (the others stay; checked
    against its headers). Raises SavedMappingNotFound, SavedMappingInvalid, MappingNameTaken."""
    current = get_mapping(mapping_id)
    new_name = current.name if name is None else _clean_name(name)
    if columns is None:
        new_columns = current.columns
    elif not isinstance(columns, dict):
        new_columns = checked_columns(current.headers, columns)  # raises, naming the problem
    else:  # fields left out keep their saved column
        new_columns = checked_columns(current.headers, {**current.columns, **columns})
    with db.pooled_connection() as conn:
        try:
            saved = _row(
                conn,
                """UPDATE saved_mappings SET name = %s, columns = %s::jsonb, updated_at = now()
                   WHERE id = %s RETURNING *""",
                (new_name, json.dumps(new_columns), mapping_id),
            )
        except psycopg.errors.UniqueViolation:
            raise MappingNameTaken(new_name) from None
        conn.commit()
    if saved is None:
        raise SavedMappingNotFound(mapping_id)
    return saved


def delete_mapping(mapping_id: int) -> None:
    """Delete a saved mapping (imports that used it keep its name). Raises
    SavedMappingNotFound."""
    with db.pooled_connection() as conn:
        gone = conn.execute("DELETE FROM saved_mappings WHERE id = %s", (mapping_id,)).rowcount
        conn.commit()
    if not gone:
        raise SavedMappingNotFound(mapping_id)
