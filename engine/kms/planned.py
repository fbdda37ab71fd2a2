"""A validated cloud KMS whose network calls are not built yet.

Opening a valid aws / gs / azure-kms URI gives one of these: its ids are real (so a backup's
ENCRYPTION-INFO entries can be matched and SHOW BACKUP KEYS works), but encrypt/decrypt say
plainly that the provider call is planned instead of pretending.
"""

from __future__ import annotations

from .base import KMS, KMSUnsupportedError


class PlannedKMS(KMS):
    """Ids only; every KMS call raises KMSUnsupportedError (an UnsupportedError)."""

    def _unavailable(self) -> KMSUnsupportedError:
        return KMSUnsupportedError(
            f"{self.scheme} KMS calls are not available in this build yet (planned); "
            f"the URI is valid and names master key id {self.master_key_id!r}",
            self.redacted_uri,
        )

    def encrypt(self, plaintext: bytes) -> bytes:
        raise self._unavailable()

    def decrypt(self, ciphertext: bytes) -> bytes:
        raise self._unavailable()
