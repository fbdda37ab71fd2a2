"""Endpoints on 127.0.0.1 that hang: one accepts and never answers, one trickles a byte a second.

They stand for a KMS or storage service that is down behind a load balancer, or one that is
overloaded and answers slowly forever. Per-read SDK timeouts never fire against the trickle:
only a whole-call deadline does. Plain TCP servers: they work for HTTP, HTTPS (the TLS
handshake never completes) and gRPC (the HTTP/2 preface is never answered) alike.
"""

from __future__ import annotations

import socket
import threading
import time


class HangServer:
    """Accept connections on 127.0.0.1 and hold them. With `trickle` > 0 seconds, send an
    endless HTTP response, one byte at a time, that period apart."""

    def __init__(self, trickle: float = 0.0) -> None:
        self.trickle = trickle
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.address = f"127.0.0.1:{self.port}"
        self.http = f"http://{self.address}"
        self.https = f"https://{self.address}"
        self.connections = 0
        self._stop = threading.Event()
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()

    def __enter__(self) -> HangServer:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.sock.close()
        with self._lock:
            for c in self._conns:
                try:
                    c.close()
                except OSError:
                    pass

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._conns.append(conn)
            if self.trickle:
                threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nX-Slow: "
        try:
            conn.recv(65536)
            conn.sendall(head)
            while not self._stop.wait(self.trickle):
                conn.sendall(b"a")
        except OSError:
            pass


def elapsed(fn, *args, **kw):  # type: ignore[no-untyped-def]
    """(seconds, exception or None) of fn(*args, **kw)."""
    t = time.monotonic()
    try:
        fn(*args, **kw)
    except Exception as e:  # noqa: BLE001
        return time.monotonic() - t, e
    return time.monotonic() - t, None
