"""A fake partner agency: a real HTTP server on loopback that receives and verifies our callbacks."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from zongzhi.platform.partners import KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign


@dataclass
class Callback:
    path: str
    body: dict
    key_id: str
    signature_ok: bool


@dataclass
class FakePartner:
    secrets: dict[str, str] = field(default_factory=dict)
    received: list[Callback] = field(default_factory=list)
    status: int = 200
    _server: ThreadingHTTPServer | None = None
    _port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}/callback"

    def start(self) -> None:
        partner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                key_id = self.headers.get(KEY_HEADER, "")
                secret = partner.secrets.get(key_id, "")
                expected = sign(secret, self.headers.get(TIMESTAMP_HEADER, ""), raw) if secret else ""
                partner.received.append(
                    Callback(
                        self.path, json.loads(raw), key_id, expected == self.headers.get(SIGNATURE_HEADER)
                    )
                )
                self.send_response(partner.status)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        self._port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Go down: connections are refused until ``start`` again (on the same port)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def kinds(self) -> list[str]:
        return [c.body["kind"] for c in self.received]
