"""The headless JSON API, mounted into the Reflex app as its `api_transformer`."""

from __future__ import annotations

from fastapi import FastAPI

from product_importer.api import health, imports, products, session, users, webhooks
from product_importer.api.errors import register_error_handlers


def create_api() -> FastAPI:
    api = FastAPI(
        title="Product Importer API",
        version="1.0",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
        swagger_ui_oauth2_redirect_url="/api/docs/oauth2-redirect",
    )
    register_error_handlers(api)
    api.include_router(health.router)
    api.include_router(session.router)
    api.include_router(imports.router)
    api.include_router(products.router)
    api.include_router(users.router)
    api.include_router(webhooks.router)
    return api


api = create_api()
