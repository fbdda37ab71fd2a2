"""Master key ids per provider: the strings CockroachDB hashes into ENCRYPTION-INFO map keys."""

from __future__ import annotations

import hashlib

import pytest

from engine.kms import open_kms, parse_kms_uri

AWS = "?REGION=us-east-1&AUTH=implicit"
GCP = "?AUTH=implicit"
AZ = "?AUTH=implicit&AZURE_VAULT_NAME=vault"
KEY_UUID = "1234abcd-12ab-34cd-56ef-1234567890ab"

IDS = [
    # AWS: the path as typed, without the leading '/', never normalised.
    (f"aws:///{KEY_UUID}{AWS}", KEY_UUID),
    (f"aws:///arn:aws:kms:us-east-1:111122223333:key/{KEY_UUID}{AWS}",
     f"arn:aws:kms:us-east-1:111122223333:key/{KEY_UUID}"),
    (f"aws:///alias/ExampleAlias{AWS}", "alias/ExampleAlias"),
    (f"aws-kms:///arn:aws:kms:us-east-1:111122223333:alias/ExampleAlias{AWS}",
     "arn:aws:kms:us-east-1:111122223333:alias/ExampleAlias"),
    (f"aws://ignored-host/{KEY_UUID}{AWS}", KEY_UUID),
    (f"aws:///alias%2Fpct{AWS}", "alias/pct"),  # Go's URL.Path is decoded
    (f"aws:///k#frag{AWS}", "k#frag"),  # ParseRequestURI keeps '#' in the path
    (f"aws:////double{AWS}", "/double"),  # TrimPrefix removes one '/'
    # GCP: the CryptoKey resource name; a version suffix is stripped.
    (f"gs:///projects/p/locations/global/keyRings/r/cryptoKeys/k{GCP}",
     "projects/p/locations/global/keyRings/r/cryptoKeys/k"),
    (f"gs:///projects/p/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/7{GCP}",
     "projects/p/locations/global/keyRings/r/cryptoKeys/k"),
    (f"gcp-kms:///projects/p/locations/us/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1{GCP}",
     "projects/p/locations/us/keyRings/r/cryptoKeys/k"),
    # Azure: the key name only; the version is pinned for calls but not part of the id.
    (f"azure-kms:///backup-key/0123456789abcdef{AZ}", "backup-key"),
    (f"azure-kms:///backup-key/fedcba9876543210{AZ}", "backup-key"),
    # testkms.
    ("testkms:///cmk?AUTH=implicit", "cmk"),
    ("testkms:///cmk?AUTH=implicit&REGION=blah", "cmk"),
]


@pytest.mark.parametrize(("uri", "key_id"), IDS)
def test_master_key_id(uri: str, key_id: str) -> None:
    parsed = parse_kms_uri(uri)
    assert parsed.master_key_id == key_id
    assert parsed.key_ids == (key_id,)
    assert parsed.write_key_ids == (key_id,)  # mainline CockroachDB writes the master id only
    with open_kms(uri) as kms:
        assert (kms.master_key_id, kms.key_ids, kms.write_key_ids) == (key_id, (key_id,), (key_id,))
        assert kms.scheme == uri.split(":", 1)[0].lower()


def test_alias_and_arn_are_different_entries() -> None:
    # A known CockroachDB weakness kept for compatibility: ids are textual.
    a = parse_kms_uri(f"aws:///alias/x{AWS}").master_key_id
    b = parse_kms_uri(f"aws:///arn:aws:kms:us-east-1:1:alias/x{AWS}").master_key_id
    assert hashlib.sha256(a.encode()).digest() != hashlib.sha256(b.encode()).digest()


def test_testkms_replica_ids_follow_master() -> None:
    parsed = parse_kms_uri("testkms:///cmk?AUTH=implicit&TEST_REPLICA_IDS=def,jkl")
    assert parsed.key_ids == ("cmk", "def", "jkl")
    assert parsed.write_key_ids == ("cmk",)
    assert parse_kms_uri("testkms:///cmk?TEST_REPLICA_IDS=cmk,x").key_ids == ("cmk", "x")


def test_map_key_is_raw_sha256_of_the_id() -> None:
    # backup-format.md 2.1: map key = raw 32-byte SHA-256 of the master key id.
    parsed = parse_kms_uri("testkms:///cmk?AUTH=implicit")
    digest = hashlib.sha256(parsed.write_key_ids[0].encode("utf-8")).digest()
    assert digest == hashlib.sha256(b"cmk").digest()
    assert len(digest) == 32
