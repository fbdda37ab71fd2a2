"""An HTTP proxy on 127.0.0.1 that answers the first N requests with an S3-style error, then
forwards everything to a real server: for testing retry-with-backoff against throttling / 5xx,
and (with failures=0) for counting the requests a client really sends, by kind.
"""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

ERROR_XML = (
    '<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
    "<Message>injected by the flaky proxy</Message></Error>"
)


class FlakyProxy:
    """Fail the first `failures` requests with `status`/`code`, forward the rest to `upstream`."""

    def __init__(self, upstream: str, failures: int, status: int = 503, code: str = "SlowDown") -> None:
        self.upstream = urlsplit(upstream)
        self.remaining = failures
        self.status, self.code = status, code
        self.requests = 0
        self.log: list[tuple[str, str, str]] = []  # (method, path?query, X-Amz-Target) per request
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with proxy.lock:
                    proxy.requests += 1
                    proxy.log.append((self.command, self.path, self.headers.get("X-Amz-Target", "")))
                    fail = proxy.remaining > 0
                    proxy.remaining -= fail
                if fail:
                    data = ERROR_XML.format(code=proxy.code).encode()
                    self.send_response(proxy.status)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(data)
                    return
                conn = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=10)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FlakyProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
