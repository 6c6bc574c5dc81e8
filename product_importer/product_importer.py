"""The Reflex app: its pages, and the headless API mounted as its `api_transformer`.

The Radix theme is configured in rxconfig.py (`RadixThemesPlugin`), as Reflex 0.9+ wants.
"""

from __future__ import annotations

import reflex as rx

from product_importer.api import api
from product_importer.ui.imports_page import imports_page
from product_importer.ui.imports_state import ImportState
from product_importer.ui.placeholder_pages import webhooks_page
from product_importer.ui.products_page import products_page
from product_importer.ui.products_state import ProductsState

app = rx.App(api_transformer=api)
app.add_page(
    imports_page, route="/", title="Import · Product Importer", on_load=ImportState.load_page
)
app.add_page(
    products_page,
    route="/products",
    title="Products · Product Importer",
    on_load=ProductsState.load_page,
)
app.add_page(webhooks_page, route="/webhooks", title="Webhooks · Product Importer")
