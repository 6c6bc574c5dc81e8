"""The frontend is rebuilt exactly when one of its inputs changed (frontend_build)."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from product_importer.frontend_build import (
    BUILD_OUTPUT,
    STAMP_FILE,
    fingerprint,
    forget_build,
    is_built,
    record_build,
)

SETTINGS = {"packages": "reflex==0.10.1", "env.json": '{"EVENT": "ws://localhost:3000/_event"}'}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    files = {
        "product_importer/ui/import_page.py": "TITLE = 'Import'\n",
        "product_importer/product_importer.py": "app = None\n",
        "rxconfig.py": "config = None\n",
        "assets/favicon.ico": "icon",
        "requirements.txt": "reflex==0.10.1\n",
        "reflex.lock/package.json": "{}",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def test_unchanged_inputs_keep_their_fingerprint(project: Path) -> None:
    assert fingerprint(project, SETTINGS) == fingerprint(project, dict(SETTINGS))


@pytest.mark.parametrize(
    "change",
    [
        lambda root: (root / "product_importer/ui/import_page.py").write_text("TITLE = 'Imp'\n"),
        lambda root: (root / "product_importer/ui/new_page.py").write_text("X = 1\n"),
        lambda root: (root / "product_importer/product_importer.py").unlink(),
        lambda root: (root / "product_importer/ui/import_page.py").rename(
            root / "product_importer/ui/imports_page.py"
        ),
        lambda root: (root / "rxconfig.py").write_text("config = 1\n"),
        lambda root: (root / "assets/logo.svg").write_text("<svg/>"),
        lambda root: (root / "requirements.txt").write_text("reflex==0.10.2\n"),
        lambda root: (root / "reflex.lock/package.json").write_text('{"a": 1}'),
    ],
    ids=[
        "page edited",
        "page added",
        "module removed",
        "module renamed",
        "rxconfig",
        "asset added",
        "requirements",
        "frontend lock",
    ],
)
def test_a_changed_source_changes_the_fingerprint(project: Path, change) -> None:
    before = fingerprint(project, SETTINGS)
    change(project)
    assert fingerprint(project, SETTINGS) != before


@pytest.mark.parametrize("key", ["packages", "env.json", "environment"])
def test_a_changed_setting_changes_the_fingerprint(project: Path, key: str) -> None:
    assert fingerprint(project, {**SETTINGS, key: "other"}) != fingerprint(project, SETTINGS)


def test_files_the_build_itself_or_python_writes_are_not_inputs(project: Path) -> None:
    before = fingerprint(project, SETTINGS)
    cache = project / "product_importer/ui/__pycache__"
    cache.mkdir()
    (cache / "import_page.cpython-311.pyc").write_bytes(b"\0")
    (project / "assets/external/reflex_components").mkdir(parents=True)
    (project / "assets/external/reflex_components/x.js").write_text("x")
    (project / "unrelated.txt").write_text("notes")
    assert fingerprint(project, SETTINGS) == before


def test_a_recorded_build_is_reused_only_while_its_output_is_there(tmp_path: Path) -> None:
    web = tmp_path / ".web"
    (web / BUILD_OUTPUT).parent.mkdir(parents=True)
    assert not is_built(web, "abc")  # never built
    record_build(web, "abc")
    assert not is_built(web, "abc")  # the stamp alone is not a build
    (web / BUILD_OUTPUT).write_text("<html></html>")
    assert is_built(web, "abc")
    assert not is_built(web, "abd")  # another fingerprint
    forget_build(web)
    assert not is_built(web, "abc")
    forget_build(web)  # nothing to forget: no error


def test_an_unreadable_or_garbled_stamp_means_a_rebuild(tmp_path: Path) -> None:
    web = tmp_path / ".web"
    (web / BUILD_OUTPUT).parent.mkdir(parents=True)
    (web / BUILD_OUTPUT).write_text("<html></html>")
    (web / STAMP_FILE).write_bytes(b"\xff\xfe not a fingerprint")
    assert not is_built(web, "abc")
    (web / STAMP_FILE).unlink()
    (web / STAMP_FILE).mkdir()  # not even a file
    assert not is_built(web, "abc")


def test_reflex_prod_run_still_goes_through_the_two_wrapped_steps() -> None:
    """A Reflex upgrade that renames or bypasses them must fail here, not rebuild silently
    on every start (or worse, serve a stale build)."""
    from reflex import reflex as reflex_commands
    from reflex.utils import build

    run_prod = inspect.getsource(reflex_commands._run_prod)
    assert "_compile_app(" in run_prod
    assert "build.setup_frontend_prod(" in run_prod
    assert "set_env_json()" in inspect.getsource(build.setup_frontend)
