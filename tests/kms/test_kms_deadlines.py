"""Every KMS call has a whole-call deadline (issue 15, item 5: hangs).

Before: botocore's read timeout is per socket read, so an AWS endpoint that trickles a byte every
2 s was still waited on after 600 s; one that never answers cost 30.8 s per call (3 attempts of
a 10 s read timeout); Azure with an unreachable login host took 94 s. Now each call ends with a
KMSError naming the endpoint and the deadline (engine.settings.Limits.kms_timeout), and a KMS
that timed out once is not waited on again in the same run.
"""

from __future__ import annotations

import pytest

from engine.kms import KMSEnv, KMSError, open_kms
from engine.settings import Limits, set_limits
from tests.kms.hang_servers import HangServer, elapsed

DEADLINE = 1.0


@pytest.fixture(autouse=True)
def short_deadline():  # type: ignore[no-untyped-def]
    set_limits(Limits(kms_timeout=DEADLINE))
    yield
    set_limits(None)


def aws_uri(endpoint: str) -> str:
    return (
        "aws:///alias/k?AWS_ACCESS_KEY_ID=AKIAEXAMPLE&AWS_SECRET_ACCESS_KEY=secretvalue1"
        f"&REGION=us-east-1&AWS_ENDPOINT={endpoint}"
    )


@pytest.mark.parametrize("trickle", [0.0, 0.5], ids=["never-answers", "trickles"])
def test_aws_kms_call_fails_at_the_deadline_naming_the_endpoint(trickle: float) -> None:
    with HangServer(trickle=trickle) as server, open_kms(aws_uri(server.http)) as kms:
        # the client is built before the timed call, as the engine does before its pool
        # (KMS.prepare): on a loaded machine importing botocore alone can outlast a 1 s deadline
        set_limits(Limits(kms_timeout=30 * DEADLINE))
        kms.prepare()
        set_limits(Limits(kms_timeout=DEADLINE))
        took, err = elapsed(kms.encrypt, b"k" * 32)
        assert isinstance(err, KMSError), err
        text = str(err)
        assert "timed out" in text and server.http in text and f"{DEADLINE:g} s" in text
        assert "secretvalue1" not in text
        assert server.connections >= 1
        assert took < 5 * DEADLINE  # a ratio of the setting, not an absolute time
        # the same KMS is not waited on again in this run
        again_took, again = elapsed(kms.decrypt, b"x" * 40)
        assert isinstance(again, KMSError) and "not tried" in str(again) and server.http in str(again)
        assert again_took < DEADLINE


def test_azure_kms_with_its_login_host_unreachable_fails_at_the_deadline(fake_vault) -> None:  # type: ignore[no-untyped-def]
    uri = (
        "azure-kms:///key/0123456789abcdef?AZURE_VAULT_NAME=v&AZURE_CLIENT_ID=c"
        "&AZURE_CLIENT_SECRET=azsecret99&AZURE_TENANT_ID=00000000-0000-0000-0000-000000000000"  # the fake vault challenge's tenant
    )
    # the vault answers (with its 401 challenge); the Active Directory login host never does.
    # The vault's challenge must arrive within the deadline, so give a loaded machine room.
    deadline = 4 * DEADLINE
    set_limits(Limits(kms_timeout=deadline))
    with HangServer() as login:
        env = KMSEnv(azure_vault_url=fake_vault.url, azure_tls_ca=fake_vault.ca, azure_login_host=login.https)
        with open_kms(uri, env=env) as kms:
            took, err = elapsed(kms.encrypt, b"k" * 32)
        assert isinstance(err, KMSError), err
        assert "timed out" in str(err) and login.https in str(err)
        assert "azsecret99" not in str(err)
        assert login.connections >= 1  # it was the token request that hung
        assert took < 5 * deadline
