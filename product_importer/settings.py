"""Every environment variable the app reads, read once and typed."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be an integer, got {raw!r}") from exc


def _positive_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be a number, got {raw!r}") from exc
    if not value > 0:
        raise RuntimeError(f"{name} must be more than 0, got {raw!r}")
    return value


# Svix's schedule: seconds to wait before each retry (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h).
DEFAULT_WEBHOOK_RETRY_SCHEDULE = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)


def _origins(name: str) -> tuple[str, ...]:
    """A comma-separated list of origins (`https://host[:port]`), as browsers send them."""
    raw = os.environ.get(name, "").strip()
    origins = tuple(part.strip().rstrip("/").lower() for part in raw.split(",") if part.strip())
    for origin in origins:
        scheme, sep, rest = origin.partition("://")
        if scheme not in ("http", "https") or not sep or not rest or "/" in rest:
            raise RuntimeError(
                f"{name} must be a comma-separated list of origins such as "
                f"https://shop.example.com or http://localhost:3000, got {origin!r}"
            )
    return origins


def _seconds_list(name: str, default: tuple[float, ...]) -> tuple[float, ...]:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        values = tuple(float(part) for part in raw.split(",") if part.strip())
    except ValueError as exc:
        raise RuntimeError(
            f"{name} must be a comma-separated list of seconds, got {raw!r}"
        ) from exc
    if any(value < 0 for value in values):
        raise RuntimeError(f"{name} must not hold negative seconds, got {raw!r}")
    return values


@dataclass(frozen=True)
class Settings:
    """Configuration of one process; see README "Configuration"."""

    database_url: str | None = field(default_factory=lambda: os.environ.get("DATABASE_URL") or None)
    redis_url: str | None = field(default_factory=lambda: os.environ.get("REDIS_URL") or None)
    data_dir: Path = field(
        default_factory=lambda: Path(os.environ.get("DATA_DIR") or PROJECT_ROOT / "data").resolve()
    )
    port: int = field(default_factory=lambda: _int("PORT", 3000))
    max_upload_mb: int = field(default_factory=lambda: _int("MAX_UPLOAD_MB", 512))
    # The largest request body of any route but the uploads (JSON of products, webhooks,
    # users, tokens), in KB: a larger one is refused (413) before it is read whole.
    max_body_kb: int = field(default_factory=lambda: _int("MAX_BODY_KB", 64))
    import_batch_size: int = field(default_factory=lambda: _int("IMPORT_BATCH_SIZE", 10_000))
    # The longest row of an import, in KB of text (a quoted value's line breaks included);
    # a longer line or row is skipped and reported, never held in memory.
    max_row_kb: int = field(default_factory=lambda: _int("MAX_ROW_KB", 1024))
    # Uploads: a client that sends nothing for this long is cut off (its rows rolled back)...
    upload_read_timeout_s: int = field(default_factory=lambda: _int("UPLOAD_READ_TIMEOUT_S", 15))
    # ...and so is one slower than this (KB/s) over any 30 s spent waiting for it (0: off).
    upload_min_kb_per_s: int = field(default_factory=lambda: _int("UPLOAD_MIN_KB_PER_S", 8))
    # Uploads one web process stages at once, each on a thread of its own pool.
    upload_threads: int = field(default_factory=lambda: _int("UPLOAD_THREADS", 4))
    # How long one more upload waits for a free thread before it is refused (503): long
    # enough that a burst queues up (each holds a thread only while it streams), short
    # enough that no client waits unanswered for long (its body is not read meanwhile).
    upload_slot_wait_s: float = field(
        default_factory=lambda: _positive_float("UPLOAD_SLOT_WAIT_S", 30.0)
    )
    # Connections one import applies its batches over (PostgreSQL uses a core for each).
    import_apply_connections: int = field(
        default_factory=lambda: _int("IMPORT_APPLY_CONNECTIONS", 2)
    )
    # Seconds without a heartbeat before a dead worker's messages are redelivered: the
    # bound on how long a killed worker's job waits once another worker runs. A worker
    # wrongly taken for dead costs nothing (each job's lock keeps a second run off it).
    worker_heartbeat_timeout_s: int = field(
        default_factory=lambda: _int("WORKER_HEARTBEAT_TIMEOUT_S", 15)
    )
    # The web app's own log lines at this level and above (DEBUG adds the live watchers'
    # comings and goings, INFO the lines an operator acts on).
    log_level: str = field(default_factory=lambda: os.environ.get("LOG_LEVEL", "INFO").upper())
    # An import writing at least this many products, and at least half of the catalog,
    # drops products' search and sort indexes and builds them again in bulk afterwards
    # (imports/deferred_indexes.py).
    import_defer_indexes_min_rows: int = field(
        default_factory=lambda: _int("IMPORT_DEFER_INDEXES_MIN_ROWS", 100_000)
    )
    # A preview not applied within this many minutes is discarded (imports/preview.py).
    preview_ttl_minutes: float = field(
        default_factory=lambda: _positive_float("PREVIEW_TTL_MINUTES", 60.0)
    )
    # An import can be reverted for this many days after it ended; its before-images are
    # removed after that (imports/before_images.py).
    revert_days: float = field(default_factory=lambda: _positive_float("REVERT_DAYS", 7.0))
    # A finished export's file is kept this many hours, then removed by the worker
    # (products/export_jobs.py).
    export_retention_hours: float = field(
        default_factory=lambda: _positive_float("EXPORT_RETENTION_HOURS", 24.0)
    )
    # An upload kept while its columns are chosen is dropped after this many minutes
    # (imports/pending_uploads.py).
    pending_upload_ttl_minutes: float = field(
        default_factory=lambda: _positive_float("PENDING_UPLOAD_TTL_MINUTES", 30.0)
    )
    redis_namespace: str = field(
        default_factory=lambda: os.environ.get("REDIS_NAMESPACE") or "product_importer"
    )
    # Access control: how long a browser session lasts, and how many failed sign-ins
    # (per user name from one address, per user name, per client address) are allowed
    # within the window before a pause (access/throttle.py).
    session_hours: int = field(default_factory=lambda: _int("SESSION_HOURS", 12))
    sign_in_max_failures_per_user: int = field(
        default_factory=lambda: _int("SIGN_IN_MAX_FAILURES_PER_USER", 5)
    )
    sign_in_max_failures_per_name: int = field(
        default_factory=lambda: _int("SIGN_IN_MAX_FAILURES_PER_NAME", 50)
    )
    sign_in_max_failures_per_address: int = field(
        default_factory=lambda: _int("SIGN_IN_MAX_FAILURES_PER_ADDRESS", 20)
    )
    sign_in_window_s: int = field(default_factory=lambda: _int("SIGN_IN_WINDOW_S", 900))
    # How long a browser that signed in stays a known device, whose failures count apart.
    sign_in_device_days: int = field(default_factory=lambda: _int("SIGN_IN_DEVICE_DAYS", 90))
    # Origins besides the app's own (the address its requests come to) whose pages may
    # call it with the session cookie, read its API cross-origin (CORS) and open its
    # websocket; none by default (api/origins.py).
    allowed_origins: tuple[str, ...] = field(default_factory=lambda: _origins("ALLOWED_ORIGINS"))
    # Mark the session cookie Secure (sent over HTTPS only). Set it behind TLS; it stays
    # off by default because the embedded default serves plain HTTP on localhost.
    cookie_secure: bool = field(default_factory=lambda: _int("COOKIE_SECURE", 0) == 1)
    # Webhook targets outside the public internet: "1" allows every loopback / private
    # address, or a comma-separated list of networks (CIDR) allows those only.
    webhook_allow_private: str = field(
        default_factory=lambda: os.environ.get("WEBHOOK_ALLOW_PRIVATE", "").strip()
    )
    webhook_retry_schedule: tuple[float, ...] = field(
        default_factory=lambda: _seconds_list(
            "WEBHOOK_RETRY_SCHEDULE", DEFAULT_WEBHOOK_RETRY_SCHEDULE
        )
    )
    # Consecutive failed events (every attempt failed) after which an endpoint is disabled.
    webhook_disable_after: int = field(default_factory=lambda: _int("WEBHOOK_DISABLE_AFTER", 5))
    webhook_timeout_s: int = field(default_factory=lambda: _int("WEBHOOK_TIMEOUT_S", 15))

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def max_row_chars(self) -> int:
        return self.max_row_kb * 1024

    def require_database_url(self) -> str:
        if not self.database_url:
            raise RuntimeError(
                "DATABASE_URL is not set: start the app with `make run` (embedded servers) "
                "or point DATABASE_URL at PostgreSQL"
            )
        return self.database_url

    def require_redis_url(self) -> str:
        if not self.redis_url:
            raise RuntimeError(
                "REDIS_URL is not set: start the app with `make run` (embedded servers) "
                "or point REDIS_URL at Redis"
            )
        return self.redis_url


settings = Settings()
