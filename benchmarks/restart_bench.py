"""Restart benchmark: seconds from `python -m product_importer run` to its 'ready' line, for a
first start that builds the frontend and a second start of the unchanged app.

    python benchmarks/restart_bench.py [--port 3600] [--fresh] [--starts 2]

The first start rebuilds: the stored frontend fingerprint is removed first (with --fresh the
whole `.web` folder, so its npm packages are downloaded again, as in a new clone). Each start
is stopped with SIGINT (Ctrl-C) once ready. Runs on the embedded servers unless
DATABASE_URL / REDIS_URL are set, like `make run`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from product_importer.frontend_build import STAMP_FILE, WEB_DIR  # noqa: E402

READY = "[product-importer] ready:"
START_TIMEOUT_S = 20 * 60


def start_once(port: int) -> tuple[float, bool]:
    """Seconds until ready, and whether this start built the frontend."""
    env = {**os.environ, "PORT": str(port), "PYTHONUNBUFFERED": "1"}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "product_importer", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    ready_at: float | None = None
    built = False
    lines: list[str] = []
    timer = threading.Timer(START_TIMEOUT_S, proc.kill)
    timer.start()
    try:
        for line in proc.stdout:
            lines.append(line)
            if "Creating Production Build" in line:
                built = True
            if line.startswith(READY):
                ready_at = time.perf_counter() - started
                break
    finally:
        timer.cancel()
    proc.send_signal(signal.SIGINT)
    rest = proc.communicate(timeout=60)[0]
    if ready_at is None:
        sys.stderr.write("".join(lines[-40:]) + (rest or ""))
        raise SystemExit(f"the app exited with {proc.returncode} before it was ready")
    return ready_at, built


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=3600)
    parser.add_argument("--starts", type=int, default=2)
    parser.add_argument("--fresh", action="store_true", help="delete .web first (new clone)")
    args = parser.parse_args()
    if args.fresh:
        shutil.rmtree(WEB_DIR, ignore_errors=True)
    else:
        (WEB_DIR / STAMP_FILE).unlink(missing_ok=True)
    for number in range(1, args.starts + 1):
        seconds, built = start_once(args.port)
        what = "built the frontend" if built else "reused the built frontend"
        print(f"start {number}: ready in {seconds:.1f} s ({what})", flush=True)


if __name__ == "__main__":
    main()
