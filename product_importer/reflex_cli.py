"""`python -m product_importer.reflex_cli ...`: Reflex's own command line, minus the lines a
user of this app cannot act on: "Run `uv run reflex run` to start the app" after Reflex
refreshes its `.web` folder (the launcher already runs it), and the Node.js upgrade nag when
Node is 20 or later (enough here: Reflex then builds with `bun --bun`, as the README says).
A prod run builds the frontend only when it changed (product_importer.frontend_build)."""

from __future__ import annotations

import logging
import re

NODE_NAG = re.compile(r"Your version \((\d+)[\d.]*\) of Node\.js is out of date")
MIN_NODE_MAJOR = 20


class UnactionableLines(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith("Initialized ") and "reflex run" in message:
            return False
        nag = NODE_NAG.search(message)
        return not (nag and int(nag.group(1)) >= MIN_NODE_MAJOR)


def main() -> None:
    from reflex.reflex import cli

    from product_importer.frontend_build import build_only_when_changed

    quiet = UnactionableLines()
    for name in ("reflex.reflex", "reflex.utils.js_runtimes"):
        logging.getLogger(name).addFilter(quiet)
    build_only_when_changed()
    cli()


if __name__ == "__main__":
    main()
