"""Serving the emulator's WSGI app on 127.0.0.1 from a background thread.

A threaded werkzeug server with two additions: a request handler that closes the
connection without any answer when the app raises
:class:`~pmsync.testing._app.DroppedConnectionError` (what ``faults.drop_after`` needs: the
client sees the connection reset, not an HTTP response), and tracking of open
connections so that :meth:`ServerThread.stop` ends idle keep-alive connections at once
instead of leaving their threads behind.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from typing import Any

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

__all__ = ["ServerThread"]

_log = logging.getLogger("pmsync.testing")


class _Handler(WSGIRequestHandler):
    """Quiet, keep-alive, and closes the socket when the app asks for a dropped connection."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def connection_dropped(self, error: BaseException, environ: Any = None) -> None:
        # Nothing has been written; make sure nothing will be, and close the socket.
        del error, environ
        self.close_connection = True

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Without the query string: Slack clients may put a token there. A request that
        # could not be parsed (a TLS client on this plain HTTP port) has no path.
        path = getattr(self, "path", None) or "-"
        _log.debug("emulator: %s %s %s", self.command, path.split("?", 1)[0], code)

    def log_error(self, format: str, *args: Any) -> None:
        _log.debug("emulator: " + format, *args)


class _Server(ThreadedWSGIServer):
    daemon_threads = True

    def __init__(self, port: int, app: Any) -> None:
        super().__init__("127.0.0.1", port, app, handler=_Handler)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def track(self, connection: socket.socket) -> None:
        with self._open_lock:
            self._open.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._open_lock:
            self._open.discard(connection)

    def close_connections(self) -> None:
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class ServerThread:
    """A server bound to a port at construction; :meth:`serve` starts it, :meth:`stop` ends it.

    Binding first lets the caller learn the port (and so its URLs) before any request can
    arrive.
    """

    def __init__(self, port: int = 0) -> None:
        self._server = _Server(port, None)
        self.port: int = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"pmsync-emulator-{self.port}",
            daemon=True,
        )

    def serve(self, app: Any) -> None:
        """Start serving ``app`` from a daemon thread."""
        self._server.app = app
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting, end open connections, and wait for the serving thread."""
        if not self._thread.is_alive():
            self._server.server_close()
            return
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        self._thread.join(timeout=5)
