"""A real HTTP receiver on 127.0.0.1, and settings that let the sender call it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    # the status of each answer in turn; past the end, `then`
    statuses: list[int] = field(default_factory=list)
    then: int = 200
    delay: float = 0.0  # seconds before each answer
    received: list[Received] = field(default_factory=list)

    def answer(self) -> int:
        return self.statuses.pop(0) if self.statuses else self.then


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.received.append(Received(dict(self.headers.items()), body))
            time.sleep(state.delay)
            status = state.answer()
            reply = b"ok" if status < 300 else b"receiver is down"
            self.send_response(status)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def allow_local(settings: pytest.FixtureRequest) -> None:
    settings.OMS_WEBHOOKS_ALLOW_HTTP = True  # type: ignore[attr-defined]
    settings.OMS_WEBHOOKS_ALLOW_PRIVATE = True  # type: ignore[attr-defined]
    settings.OMS_WEBHOOKS_BACKOFF_SECONDS = 0  # type: ignore[attr-defined]
