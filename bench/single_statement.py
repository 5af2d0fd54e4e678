"""The case-list baseline: a bare Starlette endpoint that answers the list page with one hand-written
SQL statement building the whole page's JSON in PostgreSQL (asyncpg, no ORM, no GraphQL, no auth).

    .venv/bin/python bench/single_statement.py --url postgresql://... --port 8123

``POST /page`` with ``{"center_path": "/1/", "user_id": 3, "first": 50}`` returns the first page
of the cases that user sees (the center's subtree, or assigned to or filed by the user), newest
first: number, status, center name, grid name, parties' role and name, last event type and time,
each edge's cursor, and ``hasNextPage``/``endCursor``: the same page as bench/case_list.py's
``BASELINE_PAGE`` query asks zongzhi for. ``bench/case_list.py`` starts it beside ``zongzhi serve``
and measures both on the same data in the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from collections.abc import AsyncIterator

import asyncpg
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

PAGE_SQL = """
WITH page AS (
  SELECT k.id, k.created_at FROM (
    SELECT id, created_at FROM (
      SELECT c.id, c.created_at FROM "case" c
      WHERE c.center_path IN (SELECT path FROM center WHERE path LIKE $1 || '%')
      ORDER BY c.created_at DESC, c.id DESC LIMIT $3 + 1) a
    UNION
    SELECT id, created_at FROM (
      SELECT c.id, c.created_at FROM "case" c
      WHERE c.id IN (SELECT case_id FROM assignment WHERE user_id = $2)
      ORDER BY c.created_at DESC, c.id DESC LIMIT $3 + 1) b
    UNION
    SELECT id, created_at FROM (
      SELECT c.id, c.created_at FROM "case" c WHERE c.created_by_id = $2
      ORDER BY c.created_at DESC, c.id DESC LIMIT $3 + 1) f
  ) k ORDER BY k.created_at DESC, k.id DESC LIMIT $3 + 1
), edges AS (
  SELECT p.id, p.created_at,
    json_build_object(
      'cursor', translate(encode(convert_to(to_char(p.created_at AT TIME ZONE 'UTC',
                'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"') || '|' || p.id, 'UTF8'), 'base64'), '+/', '-_'),
      'node', json_build_object(
        'number', c.number,
        'status', c.status,
        'center', (SELECT json_build_object('name', ce.name) FROM center ce WHERE ce.id = c.center_id),
        'grid', (SELECT json_build_object('name', g.name) FROM grid g WHERE g.id = c.grid_id),
        'parties', (SELECT coalesce(json_agg(json_build_object('role', cp.role, 'person',
                        json_build_object('name', pe.name)) ORDER BY cp.id), '[]'::json)
                    FROM case_party cp JOIN person pe ON pe.id = cp.person_id WHERE cp.case_id = c.id),
        'lastEvent', (SELECT json_build_object('type', e.type, 'at', e.at) FROM case_event e
                      WHERE e.id = c.last_event_id))) AS edge,
    row_number() OVER (ORDER BY p.created_at DESC, p.id DESC) AS n
  FROM page p JOIN "case" c ON c.id = p.id
)
SELECT json_build_object('data', json_build_object('cases', json_build_object(
  'edges', coalesce((SELECT json_agg(edge ORDER BY n) FROM edges WHERE n <= $3), '[]'::json),
  'pageInfo', json_build_object(
    'hasNextPage', (SELECT count(*) > $3 FROM edges),
    'endCursor', (SELECT edge->>'cursor' FROM edges WHERE n = LEAST($3, (SELECT count(*) FROM edges))))
)))::text
"""


def make_app(url: str) -> Starlette:
    state: dict[str, asyncpg.Pool] = {}

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        state["pool"] = await asyncpg.create_pool(url, min_size=1, max_size=5)
        try:
            yield
        finally:
            await state["pool"].close()

    async def page(request: Request) -> Response:
        body = json.loads(await request.body())
        async with state["pool"].acquire() as conn:
            text = await conn.fetchval(PAGE_SQL, body["center_path"], body["user_id"], body.get("first", 50))
        return Response(text, media_type="application/json")

    async def health(_request: Request) -> Response:
        return Response("ok")

    return Starlette(
        routes=[Route("/page", page, methods=["POST"]), Route("/healthz", health)],
        lifespan=lifespan,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", required=True, help="the PostgreSQL database holding the data")
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args()
    url = args.url.replace("postgres://", "postgresql://", 1)
    uvicorn.run(make_app(url), host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
