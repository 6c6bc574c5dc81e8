"""Reflex configuration. Runtime settings live in product_importer/settings.py."""

from pathlib import Path

import reflex as rx

from product_importer.settings import settings

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
    # CORS: other origins allowed to call the app with credentials. Reflex's default ("*")
    # echoes any origin; the app's own pages need none (README "Signing in").
    cors_allowed_origins=settings.allowed_origins,
    **({"bun_path": _BUN} if _BUN.exists() else {}),
)
