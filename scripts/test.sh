#!/usr/bin/env bash
# Run the whole test suite: sets up .venv, runs ruff, lint-imports and mypy once, then
# pytest (browser tests included: tests/e2e) on each kind of servers TEST_SERVERS names:
#   embedded  the embedded PostgreSQL 18 and Redis 6.2, started as `make run` starts them
#   machine   this machine's PostgreSQL and Redis (started when they are down)
#   both      (default) embedded, then machine
# Tests use their own database (product_importer_test) and Redis DB 13.
set -euo pipefail
cd "$(dirname "$0")/.."

TEST_SERVERS=${TEST_SERVERS:-both}
case "$TEST_SERVERS" in
  embedded) passes=(embedded) ;;
  machine) passes=(machine) ;;
  both) passes=(embedded machine) ;;
  *) echo "TEST_SERVERS must be embedded, machine or both (not '$TEST_SERVERS')" >&2; exit 2 ;;
esac

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt

# The browser tests (tests/e2e) drive Debian's Chromium through Playwright (Playwright's own
# browser download is not used). Without it they are skipped, with the reason, not failed.
if [ ! -x /usr/bin/chromium ]; then
  echo "Chromium is missing: installing it with apt-get (for the browser tests)"
  SUDO=""
  if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then SUDO="sudo -n"; fi
  if command -v apt-get >/dev/null; then
    { $SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium; } \
      </dev/null || echo "could not install Chromium: the browser tests will be skipped" >&2
  else
    echo "no apt-get: the browser tests will be skipped" >&2
  fi
fi

.venv/bin/ruff check product_importer tests benchmarks alembic
.venv/bin/ruff format --check product_importer tests benchmarks alembic
# The layering and no import cycles (contracts in pyproject.toml), then the types.
.venv/bin/lint-imports
.venv/bin/mypy

machine_servers() {
  pg_up() { .venv/bin/python -c "import psycopg; psycopg.connect('${TEST_ADMIN_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/postgres}', connect_timeout=3).close()" 2>/dev/null; }
  redis_up() { .venv/bin/python -c "import redis; redis.Redis.from_url('${TEST_REDIS_URL:-redis://127.0.0.1:6379/13}', socket_connect_timeout=3).ping()" 2>/dev/null; }

  if ! pg_up; then
    echo "PostgreSQL is not answering: starting the local cluster"
    if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
    fi
    for _ in $(seq 1 30); do pg_up && break; sleep 1; done
    pg_up || { echo "PostgreSQL is still down: set TEST_ADMIN_DATABASE_URL" >&2; exit 1; }
  fi
  if ! redis_up; then
    echo "Redis is not answering: starting a local redis-server"
    if command -v redis-server >/dev/null; then
      mkdir -p /tmp/product-importer-redis
      redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
        --dir /tmp/product-importer-redis --logfile /tmp/product-importer-redis/redis.log || true
    fi
    for _ in $(seq 1 30); do redis_up && break; sleep 1; done
    redis_up || { echo "Redis is still down: set TEST_REDIS_URL" >&2; exit 1; }
  fi
}

failed=()
for pass in "${passes[@]}"; do
  echo "=== pytest on the $pass servers ==="
  if [ "$pass" = machine ]; then machine_servers; fi
  TEST_SERVERS=$pass .venv/bin/python -m pytest "$@" || failed+=("$pass")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "pytest failed on the ${failed[*]} servers" >&2
  exit 1
fi
