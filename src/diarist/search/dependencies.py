"""Dependencies of the search routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from diarist.search.query_embedder import QueryEmbedder


async def query_embedder(request: Request) -> QueryEmbedder:
    """The application's query embedder (opened and closed by the lifespan)."""
    embedder: QueryEmbedder = request.app.state.query_embedder
    return embedder


QueryEmbedderDep = Annotated[QueryEmbedder, Depends(query_embedder)]
