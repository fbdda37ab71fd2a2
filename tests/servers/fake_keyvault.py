"""A small fake Azure Key Vault (keys only) for tests: HTTPS, challenge auth, RSA-OAEP(-256).

No Key Vault emulator is installable here (spec test-servers.md), so this serves the part of the
Key Vault REST surface that azure-keyvault-keys' KeyClient and CryptographyClient use, so the
unmodified SDK talks to it over a real TLS socket:

- TLS with a throw-away CA and a 127.0.0.1/localhost leaf certificate made at start-up (the SDK's
  challenge policy refuses plain http). The CA is written to `<dir>/ca.pem` for clients to trust.
- Challenge auth: a request without `Authorization: Bearer ...` gets 401 with a WWW-Authenticate
  `authorization=`/`resource=` challenge; any bearer token is then accepted.
- Routes: `POST /keys/{name}/create`, `GET /keys/{name}[/{version}]`, and
  `POST /keys/{name}[/{version}]/(encrypt|decrypt|wrapkey|unwrapkey)` with RSA-OAEP-256,
  RSA-OAEP and RSA1_5. Errors use Key Vault's `{"error": {"code", "message"}}` shape.
- A key created with tag `rewrap-test-forbid-get=true` answers GET with 403, like a principal
  that holds only the encrypt/decrypt data actions (CockroachDB's documented RBAC), so the SDK
  falls back to remote encrypt.
- A key created with tag `rewrap-test-throttle=N` answers its first N crypto calls with 429
  (`Retry-After: 0`), like a throttled vault, to exercise the client's retry policy.
- `GET /_test/stats` (no auth) returns operation counters, so tests can see which calls happened.
- Nagle is disabled: with it every call takes ~44 ms (Nagle + delayed ACK, spec).

Run: `python -m tests.servers.fake_keyvault --dir DIR`; prints `READY <port>` once listening.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import ipaddress
import json
import re
import secrets
import ssl
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

FORBID_GET_TAG = "rewrap-test-forbid-get"
THROTTLE_TAG = "rewrap-test-throttle"
CHALLENGE = (
    'Bearer authorization="https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000", '
    'resource="https://vault.azure.net"'
)
ROUTE = re.compile(r"^/keys/(?P<name>[A-Za-z0-9-]+)(?:/(?P<version>[0-9a-fA-F]*))?(?:/(?P<op>[a-z]+))?/?$")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _int_bytes(n: int) -> bytes:
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


def _padding(alg: str) -> padding.AsymmetricPadding | None:
    if alg == "RSA-OAEP-256":
        return padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    if alg == "RSA-OAEP":
        return padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    if alg == "RSA1_5":
        return padding.PKCS1v15()
    return None


class VaultError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class Vault:
    """Keys by name, each a list of (version, private key, tags); thread safe."""

    def __init__(self) -> None:
        self.keys: dict[str, list[tuple[str, rsa.RSAPrivateKey, dict[str, str]]]] = {}
        self.stats: Counter[str] = Counter()
        self.lock = threading.Lock()

    def create(self, name: str, body: dict[str, Any]) -> tuple[str, rsa.RSAPrivateKey, dict[str, str]]:
        if body.get("kty") not in ("RSA", "RSA-HSM"):
            raise VaultError(400, "BadParameter", f"kty {body.get('kty')!r} is not supported here")
        size = int(body.get("key_size") or 2048)
        entry = (secrets.token_hex(16), rsa.generate_private_key(65537, size), dict(body.get("tags") or {}))
        with self.lock:
            self.keys.setdefault(name, []).append(entry)
        return entry

    def find(self, name: str, version: str) -> tuple[str, rsa.RSAPrivateKey, dict[str, str]]:
        with self.lock:
            versions = self.keys.get(name, [])
            matches = [e for e in versions if e[0] == version] if version else versions[-1:]
        if not matches:
            shown = f"{name}/{version}" if version else name
            raise VaultError(404, "KeyNotFound", f"A key with (name/id) {shown} was not found in this key vault.")
        return matches[0]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: VaultServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    # -- plumbing ------------------------------------------------------------------------------

    def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _kid(self, name: str, version: str) -> str:
        host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_port}"
        return f"https://{host}/keys/{name}/{version}"

    def _bundle(self, name: str, entry: tuple[str, rsa.RSAPrivateKey, dict[str, str]]) -> dict[str, Any]:
        version, key, tags = entry
        pub = key.public_key().public_numbers()
        now = int(time.time())
        return {
            "key": {
                "kid": self._kid(name, version),
                "kty": "RSA",
                "key_ops": ["encrypt", "decrypt", "wrapKey", "unwrapKey"],
                "n": b64url(_int_bytes(pub.n)),
                "e": b64url(_int_bytes(pub.e)),
            },
            "attributes": {"enabled": True, "created": now, "updated": now,
                           "recoveryLevel": "Recoverable+Purgeable"},
            "tags": tags,
        }

    def _handle(self, method: str) -> None:
        body = self._body()
        path = self.path.split("?", 1)[0]
        if path == "/_test/stats" and method == "GET":
            with self.server.vault.lock:
                self._send(200, dict(self.server.vault.stats))
            return
        if not (self.headers.get("Authorization") or "").startswith("Bearer "):
            self._send(401, {"error": {"code": "Unauthorized", "message": "AKV10000: Request is missing a Bearer or PoP token."}},
                       {"WWW-Authenticate": CHALLENGE})
            return
        try:
            m = ROUTE.match(path)
            if not m:
                raise VaultError(404, "NotFound", f"no route for {method} {path}")
            name, version, op = m["name"], m["version"] or "", m["op"]
            vault = self.server.vault
            if method == "POST" and op == "create" and not version:
                self._count("create")
                self._send(200, self._bundle(name, vault.create(name, json.loads(body or b"{}"))))
            elif method == "GET" and op is None:
                self._count("get")
                entry = vault.find(name, version)
                if entry[2].get(FORBID_GET_TAG) == "true":
                    raise VaultError(403, "Forbidden", "The user does not have keys get permission on key vault.")
                self._send(200, self._bundle(name, entry))
            elif method == "POST" and op in ("encrypt", "decrypt", "wrapkey", "unwrapkey"):
                if self._throttled(name, version):
                    return
                self._count(op)
                self._send(200, self._crypt(name, version, op, json.loads(body or b"{}")))
            else:
                raise VaultError(405, "BadParameter", f"unsupported {method} {path}")
        except VaultError as e:
            self._send(e.status, {"error": {"code": e.code, "message": e.message}})
        except (ValueError, KeyError) as e:
            self._send(400, {"error": {"code": "BadParameter", "message": f"bad request: {e}"}})

    def _throttled(self, name: str, version: str) -> bool:
        tags = self.server.vault.find(name, version)[2]
        with self.server.vault.lock:
            left = int(tags.get(THROTTLE_TAG, "0"))
            if left <= 0:
                return False
            tags[THROTTLE_TAG] = str(left - 1)
            self.server.vault.stats["throttled"] += 1
        self._send(429, {"error": {"code": "Throttled", "message": "Request was not processed because too many requests were received."}},
                   {"Retry-After": "0"})
        return True

    def _count(self, op: str) -> None:
        with self.server.vault.lock:
            self.server.vault.stats[op] += 1

    def _crypt(self, name: str, version: str, op: str, body: dict[str, Any]) -> dict[str, Any]:
        entry = self.server.vault.find(name, version)
        pad = _padding(str(body.get("alg")))
        if pad is None:
            raise VaultError(400, "BadParameter", f"algorithm {body.get('alg')!r} is not supported")
        value = unb64url(str(body["value"]))
        key = entry[1]
        if op in ("encrypt", "wrapkey"):
            out = key.public_key().encrypt(value, pad)
        else:
            try:
                out = key.decrypt(value, pad)
            except ValueError:
                raise VaultError(400, "BadParameter", "Error processing decrypt request.") from None
        return {"kid": self._kid(name, entry[0]), "value": b64url(out)}

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")


class VaultServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, addr: tuple[str, int], vault: Vault) -> None:
        super().__init__(addr, Handler)
        self.vault = vault


def make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A throw-away CA (ca.pem) and a leaf for 127.0.0.1/localhost (cert.pem, key.pem)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = rsa.generate_private_key(65537, 2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rewrap fake key vault CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf_key = rsa.generate_private_key(65537, 2048)
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name).public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    ca_pem, cert_pem, key_pem = directory / "ca.pem", directory / "cert.pem", directory / "key.pem"
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_pem.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(leaf_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return ca_pem, cert_pem, key_pem


def serve(directory: Path, port: int = 0) -> VaultServer:
    """Start serving on 127.0.0.1 in a background thread; return the server."""
    _, cert_pem, key_pem = make_certificates(directory)
    server = VaultServer(("127.0.0.1", port), Vault())
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_pem, key_pem)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", required=True, help="where ca.pem / cert.pem / key.pem are written")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    server = serve(Path(args.dir), args.port)
    print(f"READY {server.server_port}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()


if __name__ == "__main__":
    sys.exit(main())
