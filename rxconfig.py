"""Reflex configuration. Runtime settings live in product_importer/settings.py."""

from pathlib import Path

import reflex as rx

# bun from the npm registry (installed by `python -m product_importer run`), so that
# Reflex never downloads bun from elsewhere.
_BUN = Path(__file__).resolve().parent / ".tools" / "node_modules" / ".bin" / "bun"

config = rx.Config(
    app_name="product_importer",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(accent_color="indigo", gray_color="slate", radius="medium")
        )
    ],
    disable_plugins=[rx.plugins.SitemapPlugin],
    **({"bun_path": _BUN} if _BUN.exists() else {}),
)
