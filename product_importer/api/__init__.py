"""The headless JSON API, mounted into the Reflex app as its `api_transformer`."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from product_importer.api import (
    exports,
    health,
    imports,
    mappings,
    products,
    reverts,
    session,
    users,
    webhooks,
)
from product_importer.api.body_limit import BodyLimit
from product_importer.api.errors import register_error_handlers
from product_importer.api.origins import OriginGuard


def create_api() -> FastAPI:
    # FastAPI whose /api/docs page and Swagger UI files are served by the app itself (no
    # CDN): the docs work on a machine without internet.
    api = FastAPIOffline(
        title="Product Importer API",
        version="1.0",
        docs_url="/api/docs",
        redoc_url=None,
        static_url="/api/docs/assets",
        openapi_url="/api/openapi.json",
        swagger_ui_oauth2_redirect_url="/api/docs/oauth2-redirect",
    )
    register_error_handlers(api)
    # Outside every route (and the Reflex app mounted inside this one): bodies are capped.
    api.add_middleware(BodyLimit)
    # ...and another site's page cannot sign in or act with a browser's session.
    api.add_middleware(OriginGuard)
    api.include_router(health.router)
    api.include_router(session.router)
    api.include_router(imports.router)
    api.include_router(reverts.router)
    api.include_router(exports.router)
    api.include_router(mappings.router)
    api.include_router(products.router)
    api.include_router(users.router)
    api.include_router(webhooks.router)
    return api


api = create_api()
