"""A small fake Google Cloud KMS: a real gRPC server the unmodified KeyManagementServiceClient talks to.

Google ships no Cloud KMS emulator, and google-cloud-kms ships no servicer stubs,
so this registers a generic handler on `google.cloud.kms.v1.KeyManagementService` with the
proto-plus classes' serialize/deserialize. It implements CreateKeyRing, CreateCryptoKey,
GetCryptoKey, Encrypt and Decrypt the way the service documents them:
- one AES-256-GCM key per CryptoKey; ciphertext = version (4 bytes, big endian) | nonce (12) |
  ct+tag, with the additional authenticated data bound in;
- Encrypt takes a CryptoKey or CryptoKeyVersion name, Decrypt only a CryptoKey name;
- crc32c (Castagnoli) integrity fields: a plaintext_crc32c / ciphertext_crc32c that does not match
  is INVALID_ARGUMENT; verified_plaintext_crc32c / ciphertext_crc32c / plaintext_crc32c returned;
- NOT_FOUND for unknown key rings and keys, ALREADY_EXISTS for duplicates, INVALID_ARGUMENT for a
  ciphertext this key did not make.
A key created with label `fake-fault` misbehaves on purpose, to test the client's integrity
checks: `unverified-plaintext` (verified_plaintext_crc32c false), `bad-ciphertext-crc`,
`bad-plaintext-crc` (wrong checksums in the responses).

Run: `python tests/servers/fake_cloudkms.py [--port N]`; prints `PORT <n>` once it serves.
"""

from __future__ import annotations

import argparse
import os
import signal
import struct
import sys
import threading
from concurrent import futures

import google_crc32c
import grpc
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.cloud import kms_v1

SERVICE = "google.cloud.kms.v1.KeyManagementService"
FAULT_LABEL = "fake-fault"


def crc32c(data: bytes) -> int:
    return int(google_crc32c.value(bytes(data)))


class FakeKMS:
    """In-memory key rings and keys; every method is one RPC."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rings: set[str] = set()
        self.keys: dict[str, tuple[kms_v1.CryptoKey, bytes]] = {}

    def _key(self, name: str, context: grpc.ServicerContext, *, versions: bool) -> tuple[str, kms_v1.CryptoKey, bytes]:
        key_name = name.split("/cryptoKeyVersions/")[0] if versions else name
        with self.lock:
            found = self.keys.get(key_name)
        if found is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"Resource '{name}' was not found")
        return key_name, found[0], found[1]

    def create_key_ring(self, req: kms_v1.CreateKeyRingRequest, context: grpc.ServicerContext) -> kms_v1.KeyRing:
        name = f"{req.parent}/keyRings/{req.key_ring_id}"
        with self.lock:
            if name in self.rings:
                context.abort(grpc.StatusCode.ALREADY_EXISTS, f"KeyRing {name} already exists.")
            self.rings.add(name)
        return kms_v1.KeyRing(name=name)

    def create_crypto_key(self, req: kms_v1.CreateCryptoKeyRequest, context: grpc.ServicerContext) -> kms_v1.CryptoKey:
        name = f"{req.parent}/cryptoKeys/{req.crypto_key_id}"
        with self.lock:
            if req.parent not in self.rings:
                context.abort(grpc.StatusCode.NOT_FOUND, f"KeyRing {req.parent} not found.")
            if name in self.keys:
                context.abort(grpc.StatusCode.ALREADY_EXISTS, f"CryptoKey {name} already exists.")
            key = kms_v1.CryptoKey(
                name=name,
                purpose=kms_v1.CryptoKey.CryptoKeyPurpose.ENCRYPT_DECRYPT,
                labels=dict(req.crypto_key.labels),
                primary=kms_v1.CryptoKeyVersion(name=f"{name}/cryptoKeyVersions/1"),
            )
            self.keys[name] = (key, AESGCM.generate_key(256))
        return key

    def get_crypto_key(self, req: kms_v1.GetCryptoKeyRequest, context: grpc.ServicerContext) -> kms_v1.CryptoKey:
        return self._key(req.name, context, versions=False)[1]

    def encrypt(self, req: kms_v1.EncryptRequest, context: grpc.ServicerContext) -> kms_v1.EncryptResponse:
        key_name, key, secret = self._key(req.name, context, versions=True)
        checked = "plaintext_crc32c" in req
        if checked and req.plaintext_crc32c != crc32c(req.plaintext):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                          "The checksum in field plaintext_crc32c did not match the data in field plaintext.")
        nonce = os.urandom(12)
        ct = struct.pack(">I", 1) + nonce + AESGCM(secret).encrypt(
            nonce, req.plaintext, req.additional_authenticated_data or None
        )
        fault = key.labels.get(FAULT_LABEL, "")
        return kms_v1.EncryptResponse(
            name=f"{key_name}/cryptoKeyVersions/1",
            ciphertext=ct,
            ciphertext_crc32c=crc32c(ct) ^ (1 if fault == "bad-ciphertext-crc" else 0),
            verified_plaintext_crc32c=checked and fault != "unverified-plaintext",
            verified_additional_authenticated_data_crc32c="additional_authenticated_data_crc32c" in req,
            protection_level=kms_v1.ProtectionLevel.SOFTWARE,
        )

    def decrypt(self, req: kms_v1.DecryptRequest, context: grpc.ServicerContext) -> kms_v1.DecryptResponse:
        if "/cryptoKeyVersions/" in req.name:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                          "Decrypt takes a CryptoKey name, not a CryptoKeyVersion name.")
        _, key, secret = self._key(req.name, context, versions=False)
        if "ciphertext_crc32c" in req and req.ciphertext_crc32c != crc32c(req.ciphertext):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                          "The checksum in field ciphertext_crc32c did not match the data in field ciphertext.")
        ct = bytes(req.ciphertext)
        try:
            if len(ct) < 4 + 12 + 16 or struct.unpack(">I", ct[:4])[0] != 1:
                raise ValueError("bad header")
            plain = AESGCM(secret).decrypt(ct[4:16], ct[16:], req.additional_authenticated_data or None)
        except Exception:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "Decryption failed: the ciphertext is invalid.")
        fault = key.labels.get(FAULT_LABEL, "")
        return kms_v1.DecryptResponse(
            plaintext=plain,
            plaintext_crc32c=crc32c(plain) ^ (1 if fault == "bad-plaintext-crc" else 0),
            used_primary=True,
            protection_level=kms_v1.ProtectionLevel.SOFTWARE,
        )


def make_server(port: int = 0) -> tuple[grpc.Server, int]:
    fake = FakeKMS()
    table = {
        "CreateKeyRing": (fake.create_key_ring, kms_v1.CreateKeyRingRequest, kms_v1.KeyRing),
        "CreateCryptoKey": (fake.create_crypto_key, kms_v1.CreateCryptoKeyRequest, kms_v1.CryptoKey),
        "GetCryptoKey": (fake.get_crypto_key, kms_v1.GetCryptoKeyRequest, kms_v1.CryptoKey),
        "Encrypt": (fake.encrypt, kms_v1.EncryptRequest, kms_v1.EncryptResponse),
        "Decrypt": (fake.decrypt, kms_v1.DecryptRequest, kms_v1.DecryptResponse),
    }
    handlers = {
        method: grpc.unary_unary_rpc_method_handler(
            fn, request_deserializer=req.deserialize, response_serializer=resp.serialize
        )
        for method, (fn, req, resp) in table.items()
    }
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    return server, bound


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server, port = make_server(args.port)
    server.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    print(f"PORT {port}", flush=True)
    done.wait()
    server.stop(grace=0.5).wait()
    sys.exit(0)


if __name__ == "__main__":
    main()
