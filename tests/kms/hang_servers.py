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


class EchoErrorServer:
    """An HTTP server on 127.0.0.1 whose every answer is an error that echoes the request's
    headers in its body, as some proxies and misconfigured gateways do: the AWS JSON error
    shape for KMS, the S3 XML one for anything else."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _answer(self) -> None:
                import json

                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                echoed = "\n".join(f"{k}: {v}" for k, v in self.headers.items())
                if self.headers.get("X-Amz-Target"):
                    body = json.dumps({"__type": "AccessDeniedException",
                                       "message": f"request refused; it had: {echoed}"}).encode()
                    ctype = "application/x-amz-json-1.1"
                else:
                    from xml.sax.saxutils import escape

                    body = (f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>AccessDenied</Code>"
                            f"<Message>request refused; it had: {escape(echoed)}</Message></Error>").encode()
                    ctype = "application/xml"
                self.send_response(403)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_PUT = do_POST = do_HEAD = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> EchoErrorServer:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
