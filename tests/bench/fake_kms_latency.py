"""A local AWS KMS stand-in with a fixed latency per call, for benchmarks (not a test fixture).

Speaks the AWS JSON 1.1 protocol botocore uses for KMS (POST /, `X-Amz-Target:
TrentService.<Op>`, JSON body with base64 blobs) for Encrypt and Decrypt only; the signature is
not checked. Every answer is held back `--latency-ms` (default 20) before it is sent, like a round
trip to a regional endpoint, and many requests wait at once (one thread each, HTTP/1.1 keep-alive,
so botocore's connection pool is reused as against the real service). The ciphertext names its key,
so Decrypt with another KeyId fails as AWS does (IncorrectKeyException).

GET / answers the number of Encrypt+Decrypt calls served so far (a bench checks it) and, with
`?since=N`, when call N+1 arrived and when the last answer was sent (time.monotonic(), which is
CLOCK_MONOTONIC and so comparable across processes): a bench splits a client's wall time into
start-up, the calls, and exit with it.

    python tests/bench/fake_kms_latency.py [--latency-ms 20]   # prints the port on stdout
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAGIC = b"fake-kms-latency\0"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall
    latency = 0.020
    calls = 0
    arrived: list[float] = []  # per call, in order of arrival
    answered = 0.0  # when the latest answer was sent
    lock = threading.Lock()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
        pass

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", "00000000-0000-0000-0000-000000000000")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        out: dict = {"calls": Handler.calls}
        since = self.path.partition("since=")[2]
        if since:
            with Handler.lock:
                later = Handler.arrived[int(since):]
                out.update(first=later[0] if later else None, last=Handler.answered)
        self._send(200, out)

    def do_POST(self) -> None:  # noqa: N802
        started = time.monotonic()
        with Handler.lock:
            Handler.arrived.append(started)
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        op = self.headers.get("X-Amz-Target", "").rpartition(".")[2]
        key = str(body.get("KeyId", ""))
        if op == "Encrypt":
            plain = base64.b64decode(body["Plaintext"])
            blob = MAGIC + key.encode() + b"\0" + plain
            status, out = 200, {"CiphertextBlob": base64.b64encode(blob).decode(), "KeyId": key,
                                "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}
        elif op == "Decrypt":
            blob = base64.b64decode(body["CiphertextBlob"])
            stored, _, plain = blob.removeprefix(MAGIC).partition(b"\0")
            if not blob.startswith(MAGIC) or stored.decode() != key:
                status, out = 400, {"__type": "IncorrectKeyException", "message": "wrong key"}
            else:
                status, out = 200, {"Plaintext": base64.b64encode(plain).decode(), "KeyId": key,
                                    "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}
        else:
            status, out = 400, {"__type": "UnsupportedOperationException", "message": op}
        with Handler.lock:
            Handler.calls += 1
        left = Handler.latency - (time.monotonic() - started)
        if left > 0:
            time.sleep(left)
        self._send(status, out)
        with Handler.lock:
            Handler.answered = max(Handler.answered, time.monotonic())


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency-ms", type=float, default=20.0)
    args = ap.parse_args()
    Handler.latency = args.latency_ms / 1000
    server = Server(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
