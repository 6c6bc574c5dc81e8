"""The console prints only what a user can act on."""

from __future__ import annotations

import logging

from product_importer.reflex_cli import UnactionableLines


def _shown(message: str) -> bool:
    record = logging.LogRecord("reflex", logging.WARNING, __file__, 1, message, None, None)
    return UnactionableLines().filter(record)


def test_reflex_lines_nobody_can_act_on_are_dropped_and_the_rest_kept() -> None:
    assert not _shown("Initialized product_importer. Run `uv run reflex run` to start the app.")
    nag = "Your version ({}) of Node.js is out of date. Upgrade to 22.22.0 or higher."
    assert not _shown(nag.format("20.20.2"))
    assert not _shown(nag.format("21.0.0"))
    assert _shown(nag.format("18.19.1"))  # too old for this app: the user must upgrade
    assert _shown("Compiling: 100%")
    assert _shown("Failed to compile the app")
