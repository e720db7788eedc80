"""What the loopback stand-ins (GHL, Anthropic) share: a context manager around ``start()`` /
``stop()``, the base URL of the server they bind to 127.0.0.1, and serving from the command
line until Ctrl-C."""

from __future__ import annotations

import contextlib
import threading
from abc import ABC, abstractmethod
from http.server import ThreadingHTTPServer
from typing import Self


class LoopbackServer(ABC):
    _server: ThreadingHTTPServer | None = None

    @abstractmethod
    def start(self) -> Self: ...

    @abstractmethod
    def stop(self) -> None: ...

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the stand-in first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def serve(self, banner: str) -> None:
        """Start, print ``banner`` (``{url}`` is the base URL) and serve until Ctrl-C."""
        with self:
            print(banner.format(url=self.base_url), flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                threading.Event().wait()
