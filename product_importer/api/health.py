"""`GET /health`: can this process reach its database and Redis?"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from product_importer import db
from product_importer.redis_client import redis_sync

router = APIRouter(tags=["health"])


def _check_database() -> str:
    try:
        with db.engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:
        return f"unreachable: {type(exc).__name__}"


def _check_redis() -> str:
    try:
        redis_sync().ping()
        return "ok"
    except Exception as exc:
        return f"unreachable: {type(exc).__name__}"


@router.get("/health")
def health() -> JSONResponse:
    """200 when PostgreSQL and Redis answer; 503 naming the one that does not."""
    database, redis = _check_database(), _check_redis()
    ok = database == "ok" and redis == "ok"
    body = {"status": "ok" if ok else "unavailable", "database": database, "redis": redis}
    return JSONResponse(body, status_code=200 if ok else 503)
