"""The Reflex app: its pages, and the headless API mounted as its `api_transformer`.

The Radix theme is configured in rxconfig.py (`RadixThemesPlugin`), as Reflex 0.9+ wants.
"""

from __future__ import annotations

import logging
import sys

import reflex as rx

from product_importer.api import api
from product_importer.ui.imports_page import imports_page
from product_importer.ui.imports_state import ImportState
from product_importer.ui.placeholder_pages import products_page, webhooks_page


def _log_to_stderr() -> None:
    """Our INFO lines (e.g. watchers starting and stopping) reach the server's output;
    Reflex configures only its own loggers."""
    ours = logging.getLogger("product_importer")
    if not ours.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        ours.addHandler(handler)
        ours.setLevel(logging.INFO)
        ours.propagate = False


_log_to_stderr()
app = rx.App(api_transformer=api)
app.add_page(
    imports_page, route="/", title="Import · Product Importer", on_load=ImportState.load_page
)
app.add_page(products_page, route="/products", title="Products · Product Importer")
app.add_page(webhooks_page, route="/webhooks", title="Webhooks · Product Importer")
