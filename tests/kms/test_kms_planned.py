"""Cloud providers validate and give ids now; their calls say honestly that they are planned."""

from __future__ import annotations

import pytest

from engine.errors import UnsupportedError
from engine.kms import KMSError, open_kms

URIS = [
    ("aws", "aws:///alias/k?REGION=r&AUTH=implicit"),
    ("aws-kms", "aws-kms:///alias/k?REGION=r&AWS_ACCESS_KEY_ID=a&AWS_SECRET_ACCESS_KEY=hunter2"),
    ("gs", "gs:///projects/p/locations/l/keyRings/r/cryptoKeys/k?AUTH=implicit"),
    ("gcp-kms", "gcp-kms:///projects/p/locations/l/keyRings/r/cryptoKeys/k?BEARER_TOKEN=hunter2"),
    ("azure-kms", "azure-kms:///k/v?AZURE_VAULT_NAME=v&AZURE_CLIENT_ID=c&AZURE_CLIENT_SECRET=hunter2&AZURE_TENANT_ID=t"),
]


@pytest.mark.parametrize(("scheme", "uri"), URIS)
def test_calls_raise_unsupported(scheme: str, uri: str) -> None:
    with open_kms(uri) as kms:
        for call in (kms.encrypt, kms.decrypt):
            with pytest.raises(UnsupportedError) as info:
                call(b"\x00" * 32)
            assert isinstance(info.value, KMSError)
            message = str(info.value)
            assert message.startswith(f"{scheme} KMS calls are not available in this build yet (planned); ")
            assert "hunter2" not in message
            assert kms.master_key_id in message
