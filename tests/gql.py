"""Calling the GraphQL endpoint from tests as a front end would."""

from __future__ import annotations

from typing import Any

import httpx


class GraphQLErrors(AssertionError):
    def __init__(self, errors: list[dict]) -> None:
        super().__init__(errors)
        self.errors = errors

    @property
    def codes(self) -> list[str]:
        return [e.get("extensions", {}).get("code") for e in self.errors]

    @property
    def code(self) -> str:
        return self.codes[0]

    @property
    def field(self) -> str | None:
        return self.errors[0].get("extensions", {}).get("field")


async def raw(
    client: httpx.AsyncClient, token: str | None, query: str, variables: dict | None = None
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)


async def gql(
    client: httpx.AsyncClient, token: str, query: str, variables: dict | None = None
) -> dict[str, Any]:
    """The ``data`` of a successful operation; raises ``GraphQLErrors`` if there were errors."""
    response = await raw(client, token, query, variables)
    assert response.status_code == 200, response.text
    body = response.json()
    if body.get("errors"):
        raise GraphQLErrors(body["errors"])
    return body["data"]
