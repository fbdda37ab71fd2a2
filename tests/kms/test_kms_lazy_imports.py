"""Validating, opening and naming keys never imports a cloud SDK (nor any UI toolkit); only a
KMS call does (tested with each provider against its local server)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import sys
    import engine.kms
    from engine.kms import open_kms, parse_kms_uri
    uris = [
        "aws:///alias/k?REGION=r&AUTH=implicit",
        "aws-kms:///k?REGION=r&AWS_ACCESS_KEY_ID=a&AWS_SECRET_ACCESS_KEY=b&AWS_ENDPOINT=localhost:4566",
        "gs:///projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/2?CREDENTIALS=e30=",
        "gcp-kms:///projects/p/locations/l/keyRings/r/cryptoKeys/k?AUTH=implicit",
        "azure-kms:///k/v?AUTH=implicit&AZURE_VAULT_NAME=v",
        "testkms:///cmk?AUTH=implicit",
    ]
    for uri in uris:
        parse_kms_uri(uri).master_key_id
        with open_kms(uri) as kms:  # opening and naming the key: no SDK, no network
            kms.master_key_id, kms.key_ids
    for bad in ("gs:///", "azure-kms:///k/v", "aws:///k", "invalid_old_kms"):
        try:
            open_kms(bad)
        except engine.kms.KMSError:
            pass
    roots = ("boto3", "botocore", "google.cloud", "google.api_core", "grpc", "azure",
             "textual", "prompt_toolkit")
    print(sorted(m for m in sys.modules if m.startswith(roots)))
    """
)


def test_no_sdk_imported() -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, cwd="."
    )
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
