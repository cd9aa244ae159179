"""One HTTP exchange within one total deadline, and the signature of a signed body: what the
external payment gateway and the webhooks sender both call (issue 7: a gateway that drips one
byte a second must not hold a worker; spec section 8: `X-CommerceLayer-Signature`)."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import http.client
import io
import socket
import time
import urllib.parse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from collections.abc import Buffer

SIGNATURE_HEADER = "X-CommerceLayer-Signature"
MAX_RESPONSE_BYTES = 1024 * 1024
ERROR_BODY_BYTES = 2000  # of a non-2xx answer, kept for people (`error_detail`)
READ_CHUNK_BYTES = 64 * 1024


def payload_signature(body: bytes, shared_secret: str) -> str:
    """base64(HMAC-SHA256(body, shared_secret)): what the endpoint recomputes to trust us."""
    digest = hmac.new(shared_secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class ResponseTooLarge(Exception):
    """The endpoint's 2xx answer is longer than `MAX_RESPONSE_BYTES`."""


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: bytes  # all of a 2xx body, the first `ERROR_BODY_BYTES` of any other


def http_post(
    url: str,
    *,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
    connect_to: str | None = None,
) -> HttpAnswer:
    """POST `body` to `url` and read the whole answer within `timeout` seconds *in all*.

    A socket timeout alone bounds each read, so an endpoint that drips one byte a second would
    hold the worker for as long as it likes: every step (connect, send, each read of the status
    line, the headers and the body) gets only what is left of one monotonic deadline, and a
    step that starts past it raises `TimeoutError`. No proxies, no redirects: the merchant's URL
    is called as configured. (Name resolution is not bounded, and the TCP connect and a TLS
    handshake each get the whole `timeout`: past the deadline after them, nothing is sent.)
    `connect_to`: the IP address to connect to instead of resolving the host again (the one a
    guard checked), while the Host header, TLS's server name and certificate check stay the
    URL's host.
    """
    deadline = time.monotonic() + timeout
    parts = urllib.parse.urlsplit(url)
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    # host[:port] as written ([::1]:8443 included) for http.client to parse, without userinfo
    connection = connection_class(parts.netloc.rpartition("@")[2], timeout=timeout)
    if connect_to is not None:
        pinned = connect_to

        def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> Any:
            return socket.create_connection((pinned, address[1]), *args, **kwargs)

        connection._create_connection = create_connection  # type: ignore[attr-defined]
    # http.client builds its response with `response_class(sock, method=...)`: give it one
    # that reads through the deadline.
    connection.response_class = functools.partial(  # type: ignore[assignment]
        _DeadlineResponse, deadline=deadline
    )
    try:
        connection.connect()
        assert connection.sock is not None
        connection.sock.settimeout(_remaining(deadline))
        path = parts.path or "/"
        connection.request(
            "POST", f"{path}?{parts.query}" if parts.query else path, body=body, headers=headers
        )
        response = connection.getresponse()
        succeeded = 200 <= response.status < 300
        limit = MAX_RESPONSE_BYTES if succeeded else ERROR_BODY_BYTES
        length = response.getheader("Content-Length", "")
        if succeeded and length.isdigit() and int(length) > limit:
            raise ResponseTooLarge
        chunks: list[bytes] = []
        size = 0
        while size <= limit and (chunk := response.read(READ_CHUNK_BYTES)):
            chunks.append(chunk)
            size += len(chunk)
        if succeeded and size > limit:
            raise ResponseTooLarge
        return HttpAnswer(response.status, b"".join(chunks)[:limit])
    finally:
        connection.close()


def _remaining(deadline: float) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError("the call ran out of time")
    return remaining


class _DeadlineReader(io.RawIOBase):
    """The socket's bytes, each read given only what is left of the deadline."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline
        # The socket's own reader keeps it open until the response is done with it, even once
        # the connection has let go of it (as http.client does for a `Connection: close` answer).
        self._raw = sock.makefile("rb", buffering=0)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Buffer) -> int | None:
        self._sock.settimeout(_remaining(self._deadline))
        return self._raw.readinto(cast(Any, buffer))

    def close(self) -> None:
        self._raw.close()
        super().close()


class _DeadlineSocket:
    """What `HTTPResponse` asks of its socket: only `makefile("rb")`."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(_DeadlineReader(self._sock, self._deadline))


class _DeadlineResponse(http.client.HTTPResponse):
    def __init__(self, sock: socket.socket, *args: Any, deadline: float, **kwargs: Any) -> None:
        super().__init__(cast(socket.socket, _DeadlineSocket(sock, deadline)), *args, **kwargs)
