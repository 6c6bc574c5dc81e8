"""The web frontend is compiled and built only when what it is built from changed.

`reflex run --env prod` compiles the app and builds the frontend on every start. After a
successful build this module stores a fingerprint of the build's inputs in `.web`; a later
start whose inputs have the same fingerprint, with the build output still there, skips the
compile and the build and serves that output (Reflex's backend mounts `.web/build/client`
as on any prod run). The inputs: every file of the package (pages are Python), rxconfig.py,
assets/, requirements.txt, reflex.lock/, the installed Reflex packages' versions, Reflex's
resolved config, the `env.json` the bundle reads its backend URLs from (so a new port
rebuilds), and the REFLEX_* / VITE_* environment variables.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from collections.abc import Callable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from product_importer.settings import PROJECT_ROOT

WEB_DIR = PROJECT_ROOT / ".web"
STAMP_FILE = "product_importer.build-fingerprint"
BUILD_OUTPUT = Path("build") / "client" / "index.html"
# Relative to the project root; directories are read whole.
SOURCE_INPUTS = ("product_importer", "rxconfig.py", "assets", "requirements.txt", "reflex.lock")
# Written by the compile itself (shared assets' symlinks) or by Python: not inputs.
DERIVED = ("assets/external",)
ENV_PREFIXES = ("REFLEX_", "VITE_")
# Config entries that vary between processes for the same inputs: a set in no stable order,
# and the plugins' rendered components (they come from rxconfig.py, an input already).
CONFIG_NOISE = ("_non_default_attributes", "plugins")


def _say(message: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        print(f"[product-importer] {message}", file=sys.stderr, flush=True)


def source_files(root: Path) -> list[Path]:
    """The files under `root` the frontend is built from, in a stable order."""
    derived = [root / part for part in DERIVED]
    found: list[Path] = []
    for name in SOURCE_INPUTS:
        top = root / name
        if top.is_file():
            found.append(top)
            continue
        for path in top.rglob("*") if top.is_dir() else ():
            if "__pycache__" in path.parts or path.suffix == ".pyc" or not path.is_file():
                continue
            if any(path == d or d in path.parents for d in derived):
                continue
            found.append(path)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def fingerprint(root: Path, settings: Mapping[str, str]) -> str:
    """A hash of the source files under `root` (names and contents) and of `settings`."""
    digest = hashlib.sha256()
    for path in source_files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    digest.update(json.dumps(dict(settings), sort_keys=True).encode())
    return digest.hexdigest()


def is_built(web_dir: Path, current: str) -> bool:
    """Whether `web_dir` holds a complete build of the inputs fingerprinted `current`."""
    stamp = web_dir / STAMP_FILE
    try:
        stored = stamp.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return False
    return stored == current and (web_dir / BUILD_OUTPUT).is_file()


def record_build(web_dir: Path, current: str) -> None:
    (web_dir / STAMP_FILE).write_text(current + "\n")


def forget_build(web_dir: Path) -> None:
    """Before a build: one cut short must never be taken for complete."""
    (web_dir / STAMP_FILE).unlink(missing_ok=True)


def reflex_settings(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """What the build depends on besides the files: Reflex's packages and resolved config,
    the env.json it writes for the bundle, and the environment variables it reads."""
    from reflex_base.config import get_config

    versions = sorted(
        f"{dist.metadata['Name']}=={dist.version}"
        for dist in metadata.distributions()
        if (dist.metadata["Name"] or "").lower().startswith("reflex")
    )
    env_json = WEB_DIR / "env.json"
    return {
        "packages": " ".join(versions),
        "config": json.dumps(
            {k: v for k, v in json.loads(get_config().json()).items() if k not in CONFIG_NOISE},
            sort_keys=True,
        ),
        "env.json": env_json.read_text() if env_json.is_file() else "",
        "environment": json.dumps(
            {k: v for k, v in environ.items() if k.startswith(ENV_PREFIXES)}, sort_keys=True
        ),
    }


def current_fingerprint() -> str:
    return fingerprint(PROJECT_ROOT, reflex_settings())


def _is_prod_run() -> bool:
    from reflex_base import constants
    from reflex_base.environment import environment

    return environment.REFLEX_ENV_MODE.get() == constants.Env.PROD


def build_only_when_changed() -> None:
    """Make this process's `reflex run --env prod` skip the compile and the build of an
    unchanged frontend. Reflex's prod run calls `reflex.reflex._compile_app`, then
    `reflex.utils.build.setup_frontend_prod` (env.json, then the build); both are wrapped."""
    from reflex import reflex as reflex_commands
    from reflex.utils import build

    compile_app: Callable[..., None] = reflex_commands._compile_app
    setup_frontend_prod: Callable[[Path], None] = build.setup_frontend_prod
    # The fingerprint taken before this run's compile, or None when its build is skipped.
    building: list[str | None] = []

    def compile_unless_built(*args: Any, **kwargs: Any) -> None:
        if not _is_prod_run():
            compile_app(*args, **kwargs)
            return
        build.set_env_json()  # the URLs the bundle will hold, part of the fingerprint
        before = current_fingerprint()
        if is_built(WEB_DIR, before):
            _say("the web frontend is unchanged since its last build: serving that build")
            building.append(None)
            return
        if (WEB_DIR / "node_modules").is_dir():
            _say("building the web frontend (it changed since its last build)")
        else:
            _say("building the web frontend (the first build downloads packages: minutes)")
        forget_build(WEB_DIR)
        building.append(before)
        compile_app(*args, **kwargs)

    def setup_unless_built(root: Path) -> None:
        if not building:  # not after our compile (another command): Reflex's own way
            setup_frontend_prod(root)
            return
        before = building.pop()
        if before is None:
            return
        setup_frontend_prod(root)
        # An input changed during the build (an edit, or Reflex updating reflex.lock):
        # leave no fingerprint, so the next start builds again.
        if current_fingerprint() == before:
            record_build(WEB_DIR, before)

    reflex_commands._compile_app = compile_unless_built  # type: ignore[assignment]
    build.setup_frontend_prod = setup_unless_built
