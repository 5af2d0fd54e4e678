"""GraphiQL in a real headless Chromium with the network cut off: it must load and run a query.

Every request to a host other than the test server is blocked (and recorded), as on a government
network without internet; with assets on a CDN the page would stay on "Loading...". The browser is
Debian's ``chromium`` driven by Playwright (``executable_path``; Playwright never downloads one).
Locally the test skips without chromium; ``scripts/test`` installs it under CI=true.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import pytest

from zongzhi.storage.testing import free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK), reason="chromium is not installed (apt-get install chromium)"
)


def _zongzhi(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "zongzhi.platform.wiring.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """``zongzhi serve`` on a free port with one admin; yields (base URL, bearer token)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZONGZHI_")}
    env.update(ZONGZHI_DATA_DIR=str(tmp_path / "data"), ZONGZHI_LOG_LEVEL="WARNING")
    _zongzhi(env, "users", "create", "browser_admin", "--roles", "admin")
    token = _zongzhi(env, "tokens", "create", "browser_admin").strip()
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "zongzhi.platform.wiring.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/graphql", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"zongzhi serve did not start: {process.stderr.read()!r}") from None
                time.sleep(0.2)
        yield base, token
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_graphiql_runs_a_query_with_the_internet_cut_off(server, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    base, token = server
    ours = urlsplit(base).netloc
    blocked: list[str] = []
    assets: dict[str, str] = {}

    def only_the_test_server(route) -> None:
        if urlsplit(route.request.url).netloc == ours or route.request.url.startswith("data:"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    def remember(response) -> None:
        if "/static/" in response.url:
            assets[response.url] = response.headers.get("cache-control", "")

    query = "{ me { username roles } }"
    headers = json.dumps({"Authorization": f"Bearer {token}"})
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            context.route("**/*", only_the_test_server)
            page = context.new_page()
            page.on("response", remember)
            page.goto(f"{base}/graphql?q={quote(query)}&headers={quote(headers)}")
            page.wait_for_selector(".graphiql-execute-button", timeout=30_000)
            page.click(".graphiql-execute-button")
            result = page.locator(".result-window")
            result.filter(has_text="browser_admin").wait_for(timeout=30_000)
            answer = result.inner_text()
        finally:
            context.close()
    assert blocked == [], f"the page asked the internet for {blocked}"
    assert '"username": "browser_admin"' in answer and "admin" in answer
    vendor = [url for url in assets if "/static/vendor/" in url]
    assert len(vendor) >= 4, assets
    assert all("immutable" in assets[url] for url in vendor), assets
