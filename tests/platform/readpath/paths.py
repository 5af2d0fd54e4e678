"""Choosing the path a test client's ``/graphql`` answers through: compiled reads or the resolvers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from zongzhi.platform.wiring.graphql_http import GraphQLEndpoint


def endpoint(client: httpx.AsyncClient) -> GraphQLEndpoint:
    for route in client.app.routes:  # type: ignore[attr-defined]
        if getattr(route, "path", None) == "/graphql" and isinstance(route.endpoint, GraphQLEndpoint):
            return route.endpoint
    raise LookupError("no /graphql endpoint")


@contextmanager
def resolvers_only(client: httpx.AsyncClient) -> Iterator[None]:
    """Inside the block every request goes through Strawberry's resolvers (``ZONGZHI_COMPILED_READS=false``)."""
    ep = endpoint(client)
    compiled, ep.compiled = ep.compiled, None
    try:
        yield
    finally:
        ep.compiled = compiled
