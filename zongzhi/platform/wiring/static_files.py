"""``/static``: the browser assets shipped in the package (GraphiQL, React), with cache headers.

Vendored files live in versioned directories (``static/vendor/graphiql-3.8.3/...``), so a path's
content never changes and browsers may keep it for a year without asking again.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, max-age=300"


class CachedStaticFiles(StaticFiles):
    """StaticFiles that adds ``Cache-Control`` and ``X-Content-Type-Options`` to what it serves."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            versioned = path.replace("\\", "/").startswith("vendor/")
            response.headers["Cache-Control"] = IMMUTABLE if versioned else REVALIDATE
            response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def static_dir() -> Path:
    return Path(str(resources.files("zongzhi.platform.wiring").joinpath("static")))


def static_app() -> CachedStaticFiles:
    return CachedStaticFiles(directory=static_dir())
