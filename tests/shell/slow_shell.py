"""`rewrap shell` with one extra KMS scheme, `slowkms`: testkms bytes, every decrypt takes
SLOW_SECONDS. Registered the way CockroachDB's tests add testkms (a factory at start-up), so an
ALTER BACKUP is reliably still running when the test presses Ctrl+C."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

from engine.kms import register_kms_scheme
from engine.kms import testkms
from engine.kms.base import KMS, KMSEnv, KMSURI
from engine.cloud.gourl import GoURL

SLOW_SECONDS = 0.6


class SlowKMS(testkms.TestKMS):
    def decrypt(self, ciphertext: bytes) -> bytes:
        time.sleep(SLOW_SECONDS)
        return super().decrypt(ciphertext)


@dataclass(frozen=True)
class SlowProvider:
    def parse(self, uri: str, url: GoURL) -> KMSURI:
        return testkms.parse(uri, url)

    def open_kms(self, parsed: KMSURI, env: KMSEnv) -> KMS:
        return SlowKMS(parsed)


if __name__ == "__main__":
    register_kms_scheme("slowkms", SlowProvider())
    from tui.cli import main

    sys.exit(main(["shell", *sys.argv[1:]]))
