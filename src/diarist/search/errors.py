"""Errors of the search domain, each with a stable code."""

from __future__ import annotations

from diarist.errors import DiaristError


class SemanticSearchUnavailable(DiaristError):
    status = 503
    code = "semantic_search_unavailable"
    title = "Semantic search is unavailable"


class ClientGone(DiaristError):
    """The client closed the connection while its search waited for the embedder: the query
    is not embedded (under overload the embedder's time goes to those still waiting). Nobody
    reads the answer; it is logged as 499, as nginx names it."""

    status = 499
    code = "client_closed_request"
    title = "Client closed the request"
