"""ENCRYPTION-INFO codec (spec §2): hand-built proto bytes, map wire compatibility, file names."""

from __future__ import annotations

import hashlib

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from hypothesis import given
from hypothesis import strategies as st

from engine.errors import FormatError
from engine.formats.encryption_info import (
    ENCRYPTION_INFO,
    EncryptionInfo,
    encryption_info_file_name,
    fingerprint,
    key_id_hash,
    parse_encryption_info_name,
)

DATA_KEY = bytes(range(100, 132))
CMK = hashlib.sha256(b"cmk").digest()
CMK_24_3 = hashlib.sha256(b"cmk-24_3").digest()


def test_key_id_hash_and_fingerprint() -> None:
    assert key_id_hash("cmk") == CMK
    assert len(CMK) == 32
    assert fingerprint(CMK) == CMK[:4].hex() == hashlib.sha256(b"cmk").hexdigest()[:8]
    assert key_id_hash("projects/p/locations/l/keyRings/r/cryptoKeys/ké") == hashlib.sha256(
        "projects/p/locations/l/keyRings/r/cryptoKeys/ké".encode()
    ).digest()


def test_hand_built_kms_file() -> None:
    # What a testkms backup holds (spec §4.2): both ids map to datakey || b"cmk".
    # Field 3 entries: 0x1a len { 0x0a 0x20 <32-byte key>, 0x12 len <value> }, sorted by key.
    value = DATA_KEY + b"cmk"
    first, second = sorted([CMK, CMK_24_3])
    entry = lambda k: b"\x1a" + bytes([2 + 32 + 2 + 35]) + b"\x0a\x20" + k + b"\x12\x23" + value
    wire = entry(first) + entry(second)
    info = EncryptionInfo.from_bytes(wire)
    assert info == EncryptionInfo(encrypted_data_keys={CMK: value, CMK_24_3: value})
    assert info.to_bytes() == wire
    assert any(b >= 0x80 for b in CMK + CMK_24_3)  # the keys really are non-ASCII binary


def test_hand_built_passphrase_file() -> None:
    wire = bytes.fromhex("1210") + bytes(range(16))
    info = EncryptionInfo.from_bytes(wire)
    assert info == EncryptionInfo(salt=bytes(range(16)))
    assert info.to_bytes() == wire


def test_scheme_zero_omitted_nonzero_kept() -> None:
    assert EncryptionInfo().to_bytes() == b""
    assert EncryptionInfo.from_bytes(b"") == EncryptionInfo()
    assert EncryptionInfo(scheme=1).to_bytes() == b"\x08\x01"
    assert EncryptionInfo.from_bytes(b"\x08\x01\x12\x01s").scheme == 1


def test_unknown_fields_ignored_and_last_duplicate_wins() -> None:
    entry = lambda v: b"\x1a" + bytes([4 + len(v)]) + b"\x0a\x00\x12" + bytes([len(v)]) + v
    info = EncryptionInfo.from_bytes(entry(b"a") + b"\x20\x05" + entry(b"bb"))
    assert info.encrypted_data_keys == {b"": b"bb"}


def test_entry_order_is_sorted_for_determinism() -> None:
    keys = {bytes([i]) * 32: bytes([i]) for i in (9, 3, 200, 0)}
    wire = EncryptionInfo(encrypted_data_keys=keys).to_bytes()
    positions = [wire.index(k) for k in sorted(keys)]
    assert positions == sorted(positions)


@pytest.mark.parametrize(
    "garbage",
    [b"\xff\xff\xff", b"\x12\x10abc", b"\x1a\x05\x0a\x20ab", b"\x1a\x03\x0a\x05a", b"\x0f"],
)
def test_garbage_is_format_error_naming_file(garbage: bytes) -> None:
    with pytest.raises(FormatError, match="^ENCRYPTION-INFO-3: not a valid ENCRYPTION-INFO"):
        EncryptionInfo.from_bytes(garbage, name="ENCRYPTION-INFO-3")


def _upstream_map_class() -> type:
    """jobspb.EncryptionInfo as upstream declares it (map<string, bytes> field 3), built at run
    time, to show that our repeated-entry model is wire-identical for UTF-8 keys."""
    fdp = descriptor_pb2.FileDescriptorProto(
        name="upstream_ei_test.proto", package="t", syntax="proto3"
    )
    msg = fdp.message_type.add(name="EncryptionInfo")
    msg.field.add(name="scheme", number=1, type=5, label=1)  # int32 stands in for the enum
    msg.field.add(name="salt", number=2, type=12, label=1)
    entry = msg.nested_type.add(name="KeysEntry")
    entry.options.map_entry = True
    entry.field.add(name="key", number=1, type=9, label=1)
    entry.field.add(name="value", number=2, type=12, label=1)
    msg.field.add(name="keys", number=3, type=11, label=3, type_name=".t.EncryptionInfo.KeysEntry")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("t.EncryptionInfo"))


def test_wire_identical_to_upstream_map() -> None:
    upstream = _upstream_map_class()
    m = upstream(salt=b"s" * 16)
    keys = {"alias/a": b"wrapped-a", "projects/p/k": b"wrapped-b", "z": b"\x00\x01"}
    for k, v in keys.items():
        m.keys[k] = v
    binary_keys = {k.encode(): v for k, v in keys.items()}
    ours = EncryptionInfo(salt=b"s" * 16, encrypted_data_keys=binary_keys)
    assert ours.to_bytes() == m.SerializeToString(deterministic=True)
    back = upstream.FromString(ours.to_bytes())
    assert dict(back.keys) == keys


@given(
    scheme=st.integers(-(2**31), 2**31 - 1),
    salt=st.binary(max_size=40),
    keys=st.dictionaries(st.binary(max_size=40), st.binary(max_size=80), max_size=6),
)
def test_round_trip_property(scheme: int, salt: bytes, keys: dict[bytes, bytes]) -> None:
    info = EncryptionInfo(scheme=scheme, salt=salt, encrypted_data_keys=keys)
    wire = info.to_bytes()
    assert EncryptionInfo.from_bytes(wire) == info
    assert EncryptionInfo.from_bytes(wire).to_bytes() == wire


def test_file_names() -> None:
    assert ENCRYPTION_INFO == "ENCRYPTION-INFO"
    assert encryption_info_file_name(1) == "ENCRYPTION-INFO"
    assert encryption_info_file_name(2) == "ENCRYPTION-INFO-2"
    assert encryption_info_file_name(12) == "ENCRYPTION-INFO-12"
    with pytest.raises(ValueError):
        encryption_info_file_name(0)


@pytest.mark.parametrize(
    ("name", "n"),
    [
        ("ENCRYPTION-INFO", 1),
        ("ENCRYPTION-INFO-2", 2),
        ("ENCRYPTION-INFO-10", 10),
        ("ENCRYPTION-INFO-123456789012", 123456789012),
        ("ENCRYPTION-INFO-abc", None),
        ("ENCRYPTION-INFO-0", None),
        ("ENCRYPTION-INFO-1", None),
        ("ENCRYPTION-INFO-01", None),
        ("ENCRYPTION-INFO-02", None),
        ("ENCRYPTION-INFO-+2", None),
        ("ENCRYPTION-INFO--2", None),
        ("ENCRYPTION-INFO- 2", None),
        ("ENCRYPTION-INFO-2 ", None),
        ("ENCRYPTION-INFO-2\n", None),
        ("ENCRYPTION-INFO-1_0", None),
        ("ENCRYPTION-INFO-\u0663", None),  # Arabic-Indic digit 3: int() would accept it
        ("ENCRYPTION-INFO-", None),
        ("ENCRYPTION-INFO2", None),
        ("encryption-info", None),
        ("x/ENCRYPTION-INFO", None),
        ("ENCRYPTION-INFO.tmp", None),
    ],
)
def test_parse_name(name: str, n: int | None) -> None:
    assert parse_encryption_info_name(name) == n


@given(st.integers(1, 10**12))
def test_name_round_trip(n: int) -> None:
    assert parse_encryption_info_name(encryption_info_file_name(n)) == n
