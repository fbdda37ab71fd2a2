"""`testkms:///<id>`: CockroachDB's test KMS, byte for byte, for fixtures and the demo collection.

From cockroachdb/cockroach `pkg/backup/backup_test.go` (mainline commit ab0193cb; the
`testkms` factory is registered in the test package's init()):
- MakeTestKMS accepts any query params (no AUTH / unknown-param checks); the datadriven tests
  use `testkms:///cmk?AUTH=implicit` and `...&REGION=blah`;
- MasterKeyID() = TrimPrefix(URL.Path, "/");
- Encrypt(data) = data || MasterKeyID bytes (no cryptography, no key material);
- Decrypt(data) = strings.TrimSuffix(data, MasterKeyID): *blind* - a value without the suffix
  comes back unchanged. We refuse instead (KMSError), so the wrong testkms key can never hand
  back a wrong 32-byte data key that would only fail later, deep inside AES-GCM.
`TEST_REPLICA_IDS=a,b` adds replica ids to `key_ids` (testKMS.ReplicaIDs() in the PR #136249
branch, commit 008feb0e); see base.py for why no "-24_3" id is read or written.
"""

from __future__ import annotations

from .base import KMS, KMSEnv, KMSError, KMSURI, checked_key_id
from engine.cloud.gourl import GoURL
from syntax.uri import redact_uri as redact_kms_uri

REPLICA_IDS_PARAM = "TEST_REPLICA_IDS"


def parse(uri: str, url: GoURL) -> KMSURI:
    redacted = redact_kms_uri(uri)
    key_id = checked_key_id(url.path.removeprefix("/"), redacted)
    replicas = url.query().get(REPLICA_IDS_PARAM, [""])[0]
    replica_ids = tuple(dict.fromkeys(r for r in replicas.split(",") if r))
    return KMSURI.for_key(uri, url.scheme, key_id, replica_ids=replica_ids)


class TestKMS(KMS):
    """No network, no key material: the master key id is the whole 'key'."""

    __test__ = False  # not a pytest class

    def encrypt(self, plaintext: bytes) -> bytes:
        return bytes(plaintext) + self.master_key_id.encode("utf-8")

    def decrypt(self, ciphertext: bytes) -> bytes:
        suffix = self.master_key_id.encode("utf-8")
        if not bytes(ciphertext).endswith(suffix):
            raise KMSError(
                f"testkms: wrapped key does not end with master key id {self.master_key_id!r} "
                "(it was wrapped by another key)",
                self.redacted_uri,
            )
        return bytes(ciphertext)[: len(ciphertext) - len(suffix)]


def open_kms(parsed: KMSURI, env: KMSEnv) -> KMS:
    return TestKMS(parsed)
