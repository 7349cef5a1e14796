"""The FastAPI application factory."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from diarist import __version__
from diarist.accounts.router import auth_router, me_router
from diarist.accounts.service import AccountsContext
from diarist.analysis.router import topics_router
from diarist.attachments import service as attachments_service
from diarist.attachments.router import attachments_router
from diarist.attachments.store import open_store
from diarist.audit.router import audit_router
from diarist.config import Settings, get_settings
from diarist.db import migrate
from diarist.db.engine import Database, create_engine, plan_pool, resolve_urls
from diarist.errors import install_error_handlers
from diarist.imports.router import imports_router
from diarist.insights.router import insights_router
from diarist.journal import exports as journal_exports
from diarist.journal.router import entries_router
from diarist.journal.tags_router import tags_router
from diarist.kit.api_docs import install_api_docs
from diarist.kit.middleware import (
    BodyLimitMiddleware,
    RequestContextMiddleware,
    RequestHeadLimitMiddleware,
)
from diarist.logging import configure_logging
from diarist.memories.router import on_this_day_router, related_router
from diarist.ops.router import router as ops_router
from diarist.reminders.router import calendar_router, notifications_router, reminders_router
from diarist.search.query_embedder import QueryEmbedder
from diarist.search.router import search_router
from diarist.vault.router import vault_router
from diarist.web.site import install_web


def api_database(settings: Settings) -> Database:
    """The application role's pool for one API process (its share of the deployment's total)."""
    # Every API worker plus the job worker shares the deployment's connection budget.
    plan = plan_pool(settings.db, settings.workers + 1)
    engine = create_engine(
        resolve_urls(settings).app, settings.db, plan, application_name="diarist-api"
    )
    return Database(engine)


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    """Build the app; `database` lets tests hand in their own (otherwise built at start-up)."""
    settings = settings or get_settings()
    configure_logging(settings.log)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = database is None
        app.state.db = database or api_database(settings)
        app.state.migration_heads = migrate.head_revisions()
        app.state.query_embedder = QueryEmbedder(settings)
        try:
            yield
        finally:
            await app.state.query_embedder.close()
            if owned:
                await app.state.db.dispose()

    app = FastAPI(
        title="diarist",
        version=__version__,
        summary="A self-hostable journaling platform with private insight from your own writing.",
        lifespan=lifespan,
        # FastAPI's own pages load from a CDN; install_api_docs serves them from the app.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.accounts = AccountsContext.from_settings(settings)
    app.state.attachment_store = store = open_store(settings.attachments, settings.data_dir)
    # GET /api/v1/me/export?format=dayone|markdown (accounts sits below the journal)
    app.state.journal_export = functools.partial(journal_exports.zip_chunks, store=store)
    # GET /api/v1/me/export?format=zip: the attachments' files beside export.json
    app.state.attachment_files = functools.partial(attachments_service.stored_files, store=store)
    install_error_handlers(app)
    install_api_docs(app)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.journal.max_request_bytes,
        uploads={
            "/api/v1/imports": settings.imports.max_upload_bytes,
            # A file and its multipart envelope (the form's other fields, the boundaries).
            "/api/v1/attachments": settings.attachments.max_file_bytes + 64 * 1024,
        },
    )
    app.add_middleware(RequestHeadLimitMiddleware)
    app.add_middleware(RequestContextMiddleware, access_log=settings.log.access)
    app.include_router(ops_router)
    app.include_router(auth_router)
    app.include_router(me_router)
    app.include_router(audit_router)
    app.include_router(entries_router)
    app.include_router(tags_router)
    app.include_router(search_router)
    app.include_router(topics_router)
    app.include_router(related_router)
    app.include_router(on_this_day_router)
    app.include_router(insights_router)
    app.include_router(imports_router)
    app.include_router(attachments_router)
    app.include_router(reminders_router)
    app.include_router(notifications_router)
    app.include_router(calendar_router)
    app.include_router(vault_router)
    install_web(app)
    return app
