"""What the loopback stand-ins (GHL, Anthropic) share: a context manager around ``start()`` /
``stop()`` and the base URL of the server they bind to 127.0.0.1."""

from __future__ import annotations

from http.server import ThreadingHTTPServer
from typing import Self


class LoopbackServer:
    _server: ThreadingHTTPServer | None = None

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the stand-in first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"
