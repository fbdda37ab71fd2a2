"""One KMS contract, run against every provider (issue 11, item 5): testkms, aws:// on moto,
gcp-kms:// on the fake Cloud KMS (tests/servers/fake_cloudkms.py), azure-kms:// on the fake Key
Vault (tests/servers/fake_keyvault.py).

The contract is engine/kms/base.py's KMS: encrypt/decrypt round trips a data key; a blob made
under one key is refused by another; master_key_id / key_ids / write_key_ids are the strings
CockroachDB hashes into ENCRYPTION-INFO (cockroachdb/cockroach pkg/cloud/kms.go `MasterKeyID`,
and per provider aws_kms.go, gcp_kms.go, azure_kms.go, testutils TestKMS); refused calls and
unreachable endpoints are KMSErrors that name the redacted URI and never a secret or the data
key; a hanging endpoint ends at the KMS deadline (engine.settings.Limits.kms_timeout).
What only one provider has (request bodies, integrity checksums, RSA-OAEP-256, throttling,
RBAC fallbacks, lazy SDK imports) stays in tests/cloud_*/test_*_kms_specific.py.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from engine.kms import KMSEnv, KMSError, open_kms, parse_kms_uri
from engine.settings import Limits, set_limits
from tests.kms.hang_servers import HangServer, elapsed
from tests.servers.process import free_port

GCP_TOKEN = "ya29.kms-conformance-token"
AZURE_SECRET = "kv-conformance-secret-7f3a"
DEADLINE = 1.0


@dataclass
class Provider:
    name: str
    uri: str
    """A fresh key's URI."""
    other_uri: str
    """Another key's URI (same provider and credentials)."""
    master_key_id: str
    env: KMSEnv | None = None
    secrets: tuple[str, ...] = ()
    missing_uri: str | None = None
    """A key the service does not have (None: every testkms key exists)."""
    at_endpoint: Callable[[HangServer | str], tuple[str, KMSEnv | None, str]] | None = None
    """(uri, env, shown endpoint) for the same key behind another endpoint."""
    extra: dict[str, Any] = field(default_factory=dict)


def make_testkms() -> Provider:
    a, b = f"cmk-{uuid.uuid4().hex[:8]}", f"other-{uuid.uuid4().hex[:8]}"
    return Provider("testkms", f"testkms:///{a}?AUTH=implicit", f"testkms:///{b}?AUTH=implicit", a)


def aws(moto: Any) -> Provider:
    from tests.servers.aws import ACCESS_KEY, SECRET

    key, other = moto.new_key(), moto.new_key()

    def at_endpoint(where: HangServer | str) -> tuple[str, KMSEnv | None, str]:
        endpoint = where.http if isinstance(where, HangServer) else where
        return (f"aws:///{key}?AWS_ENDPOINT={endpoint}&REGION=us-east-1&AWS_ACCESS_KEY_ID={ACCESS_KEY}"
                f"&AWS_SECRET_ACCESS_KEY={SECRET}", None, endpoint)

    return Provider("aws", moto.kms_uri(key), moto.kms_uri(other), key, secrets=(SECRET,),
                    missing_uri=moto.kms_uri(f"alias/missing-{uuid.uuid4().hex[:8]}"),
                    at_endpoint=at_endpoint)


def gcp(server: Any) -> Provider:
    key, other = server.new_key_ring("k", "o")
    env = KMSEnv(gcp_kms_endpoint=server.address)

    def at_endpoint(where: HangServer | str) -> tuple[str, KMSEnv | None, str]:
        address = where.address if isinstance(where, HangServer) else where.split("://")[1]
        return f"gcp-kms:///{key}?BEARER_TOKEN={GCP_TOKEN}", KMSEnv(gcp_kms_endpoint=address), address

    return Provider("gcp", f"gcp-kms:///{key}?BEARER_TOKEN={GCP_TOKEN}",
                    f"gs:///{other}?BEARER_TOKEN={GCP_TOKEN}", key, env=env, secrets=(GCP_TOKEN,),
                    missing_uri=f"gcp-kms:///{key.rsplit('/', 1)[0]}/missing?BEARER_TOKEN={GCP_TOKEN}",
                    at_endpoint=at_endpoint)


def azure(vault: Any) -> Provider:
    (name, version), (other, other_version) = vault.create_key("a"), vault.create_key("b")

    def uri(n: str, v: str) -> str:
        return (f"azure-kms:///{n}/{v}?AZURE_TENANT_ID=tenant&AZURE_CLIENT_ID=client"
                f"&AZURE_CLIENT_SECRET={AZURE_SECRET}&AZURE_VAULT_NAME=myvault")

    def at_endpoint(where: HangServer | str) -> tuple[str, KMSEnv | None, str]:
        url = where.https if isinstance(where, HangServer) else where.replace("http://", "https://")
        return uri(name, version), KMSEnv(azure_vault_url=url, azure_credential="static"), url

    return Provider("azure", uri(name, version), uri(other, other_version), name, env=vault.kms_env(),
                    secrets=(AZURE_SECRET,), missing_uri=uri("no-such-key", "0123abcd"),
                    at_endpoint=at_endpoint)


def make(name: str, request: pytest.FixtureRequest) -> Provider:
    if name == "testkms":
        return make_testkms()
    if name == "aws":
        return aws(request.getfixturevalue("moto_server"))
    if name == "gcp":
        return gcp(request.getfixturevalue("cloudkms_server"))
    return azure(request.getfixturevalue("fake_vault"))


@pytest.fixture(params=["testkms", "aws", "gcp", "azure"])
def provider(request: pytest.FixtureRequest) -> Provider:
    return make(request.param, request)


@pytest.fixture(params=["aws", "gcp", "azure"])
def remote(request: pytest.FixtureRequest) -> Provider:
    """Providers behind a network endpoint."""
    return make(request.param, request)


def assert_clean(p: Provider, err: BaseException, uri: str, *, data_key: bytes = b"") -> None:
    """A KMSError naming the redacted URI, without secrets or the data key."""
    assert isinstance(err, KMSError), repr(err)
    text = str(err)
    assert parse_kms_uri(uri).redacted_uri in text, text
    assert "Traceback" not in text
    for secret in p.secrets:
        assert secret not in text, text
    if data_key:
        assert data_key.hex() not in text and repr(data_key) not in text


def test_round_trip(provider: Provider) -> None:
    data_key = os.urandom(32)
    with open_kms(provider.uri, env=provider.env) as kms:
        wrapped = kms.encrypt(data_key)
        assert wrapped != data_key
        assert bytes(kms.decrypt(wrapped)) == data_key
        assert bytes(kms.decrypt(bytearray(wrapped))) == data_key
        assert bytes(kms.decrypt(kms.encrypt(b"\x00" * 32))) == b"\x00" * 32
    with open_kms(provider.uri, env=provider.env) as again:  # a fresh client, same key
        assert bytes(again.decrypt(wrapped)) == data_key


def test_key_ids_follow_cockroach_rules(provider: Provider) -> None:
    """master_key_id is what ENCRYPTION-INFO hashes; mainline CockroachDB writes it alone."""
    parsed = parse_kms_uri(provider.uri)
    ids = (provider.master_key_id,)
    assert (parsed.master_key_id, parsed.key_ids, parsed.write_key_ids) == (provider.master_key_id, ids, ids)
    with open_kms(provider.uri, env=provider.env) as kms:
        assert (kms.master_key_id, kms.key_ids, kms.write_key_ids) == (provider.master_key_id, ids, ids)
        assert kms.scheme == provider.uri.split(":", 1)[0]
        for secret in provider.secrets:
            assert secret not in repr(kms)
    assert parse_kms_uri(provider.other_uri).master_key_id != provider.master_key_id


def test_wrong_key_is_refused(provider: Provider) -> None:
    data_key = os.urandom(32)
    with open_kms(provider.uri, env=provider.env) as ka, open_kms(provider.other_uri, env=provider.env) as kb:
        wrapped = ka.encrypt(data_key)
        with pytest.raises(KMSError) as info:
            kb.decrypt(wrapped)
        assert_clean(provider, info.value, provider.other_uri, data_key=data_key)
        assert bytes(ka.decrypt(wrapped)) == data_key  # the right key still opens it


def test_garbage_ciphertext_is_refused(provider: Provider) -> None:
    with open_kms(provider.uri, env=provider.env) as kms:
        for blob in (b"garbage", os.urandom(256)):
            with pytest.raises(KMSError) as info:
                kms.decrypt(blob)
            assert_clean(provider, info.value, provider.uri)


def test_missing_key_is_refused(remote: Provider) -> None:
    assert remote.missing_uri is not None
    with open_kms(remote.missing_uri, env=remote.env) as kms:
        for call in (lambda: kms.encrypt(b"k" * 32), lambda: kms.decrypt(b"c" * 64)):
            with pytest.raises(KMSError) as info:
                call()
            assert_clean(remote, info.value, remote.missing_uri)


@pytest.fixture
def short_deadline() -> Iterator[float]:
    set_limits(Limits(kms_timeout=DEADLINE))
    yield DEADLINE
    set_limits(None)


def test_hanging_endpoint_ends_at_the_deadline(remote: Provider, short_deadline: float) -> None:
    """The endpoint accepts and never answers: the call ends with a KMSError naming the endpoint
    and the deadline; the bound is a ratio of the setting, never an absolute time."""
    assert remote.at_endpoint is not None
    with HangServer() as server:
        uri, env, shown = remote.at_endpoint(server)
        with open_kms(uri, env=env) as kms:
            # the SDK client is built first, as the engine does before its pool (KMS.prepare):
            # on a loaded machine (the suite on 2 cores) importing an SDK alone can outlast 1 s,
            # and the call would time out before it connected
            set_limits(Limits(kms_timeout=30 * short_deadline))
            kms.prepare()
            set_limits(Limits(kms_timeout=short_deadline))
            took, err = elapsed(kms.encrypt, b"k" * 32)
        assert isinstance(err, KMSError), err
        text = str(err)
        assert "timed out" in text and shown in text and f"{DEADLINE:g} s" in text, text
        assert_clean(remote, err, uri)
        assert server.connections >= 1
        assert took < 5 * short_deadline


def test_refused_connection_is_a_clean_error(remote: Provider, short_deadline: float) -> None:
    """Nothing listens: a KMSError (within the deadline, retries included) naming the URI."""
    assert remote.at_endpoint is not None
    uri, env, _ = remote.at_endpoint(f"http://127.0.0.1:{free_port()}")
    with open_kms(uri, env=env) as kms:
        for call in (lambda: kms.encrypt(b"k" * 32), lambda: kms.decrypt(b"c" * 256)):
            _, err = elapsed(call)
            assert err is not None
            assert_clean(remote, err, uri)
