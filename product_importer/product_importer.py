"""The Reflex app: its pages, and the headless API mounted as its `api_transformer`.

The Radix theme is configured in rxconfig.py (`RadixThemesPlugin`), as Reflex 0.9+ wants.
Every page but sign-in loads behind a session guard, and `AccessMiddleware` checks the
role of every event on the server (see ui/access.py).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

import reflex as rx

from product_importer.access import Role
from product_importer.api import api
from product_importer.api.origins import allow_websocket_origins
from product_importer.settings import settings
from product_importer.ui import live_tabs
from product_importer.ui.access import SIGN_IN_ROUTE, AccessMiddleware
from product_importer.ui.access_page import access_page
from product_importer.ui.access_state import AccessState
from product_importer.ui.imports.page import imports_page
from product_importer.ui.imports.saved_mappings import SavedMappingsState
from product_importer.ui.imports.state import ImportState
from product_importer.ui.products.export_state import ProductExportState
from product_importer.ui.products.page import products_page
from product_importer.ui.products.state import ProductsState
from product_importer.ui.session_state import SessionState, SignInState
from product_importer.ui.sign_in_page import sign_in_page
from product_importer.ui.webhooks.page import webhooks_page
from product_importer.ui.webhooks.state import WebhooksState


def _log_to_stderr() -> None:
    """Our log lines from LOG_LEVEL up (INFO; DEBUG adds watchers starting and stopping)
    reach the server's output; Reflex configures only its own loggers."""
    ours = logging.getLogger("product_importer")
    if not ours.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        ours.addHandler(handler)
        ours.setLevel(logging.getLevelNamesMapping().get(settings.log_level, logging.INFO))
        ours.propagate = False


_log_to_stderr()
# Tabs keep their client token and socket link across navigations and reconnects.
live_tabs.install()
app = rx.App(api_transformer=api)
# The websocket accepts the app's own pages and ALLOWED_ORIGINS only (api/origins.py).
assert app.sio is not None
allow_websocket_origins(app.sio)
app.add_middleware(AccessMiddleware())

# Pages by route: (component, title, role needed, what else to load).
PAGES: dict[str, tuple[Callable[[], rx.Component], str, Role, list]] = {
    "/": (
        imports_page,
        "Import",
        Role.editor,
        [ImportState.load_page, SavedMappingsState.load_mappings],
    ),
    "/products": (
        products_page,
        "Products",
        Role.editor,
        [ProductsState.load_page, ProductExportState.load_export],
    ),
    "/webhooks": (webhooks_page, "Webhooks", Role.admin, [WebhooksState.load_page]),
    "/access": (access_page, "Access", Role.admin, [AccessState.load]),
}
GUARDS = {Role.editor: SessionState.load_editor_page, Role.admin: SessionState.load_admin_page}

for route, (component, title, role, loads) in PAGES.items():
    app.add_page(
        component, route=route, title=f"{title} · Product Importer", on_load=[GUARDS[role], *loads]
    )
app.add_page(
    sign_in_page, route=SIGN_IN_ROUTE, title="Sign in · Product Importer", on_load=SignInState.load
)
