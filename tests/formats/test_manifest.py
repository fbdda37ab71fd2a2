"""BACKUP_MANIFEST codec: wire bytes built by hand from the spec (§3.5, §4.3) and round trips."""

from __future__ import annotations

import gzip
import hashlib
import os
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import FormatError
from engine.formats import manifest as mf
from engine.formats.proto import backup_pb2, descriptors_pb2

# --- hand-written protobuf wire bytes -------------------------------------------------------------


from crdb_fixtures import varint  # noqa: E402  (the independent wire encoder)


def vfield(num: int, value: int) -> bytes:
    return varint(num << 3) + varint(value)


def lfield(num: int, payload: bytes) -> bytes:
    return varint(num << 3 | 2) + varint(len(payload)) + payload


END_WALL = 1_699_552_046_480_000_000  # 2023-11-09 17:47:26.48 UTC
START_WALL = 1_699_548_361_370_000_000


def hand_manifest() -> bytes:
    """Start/end times, a file, a table descriptor, format 1, revision history, cluster."""
    ts_start = vfield(1, START_WALL)
    ts_end = vfield(1, END_WALL) + vfield(2, 3)
    span = lfield(3, b"\xf0\x89") + lfield(4, b"\xf0\x8a")  # /Table/104/1 - /Table/104/2
    file = (
        lfield(1, span)
        + lfield(2, b"data/915371253014839297.sst")
        + lfield(6, vfield(1, 4096) + vfield(2, 17))
    )
    table = lfield(1, b"users") + vfield(3, 104) + vfield(4, 100) + vfield(40, 29)
    desc = lfield(1, table)
    return (
        lfield(1, ts_start)
        + lfield(2, ts_end)
        + lfield(4, file)
        + lfield(5, desc)
        + vfield(8, 1)
        + vfield(13, 1)
        + vfield(22, 1)
    )


def test_hand_written_wire_bytes_parse_with_the_right_field_numbers() -> None:
    m = mf.decode_manifest(hand_manifest())
    assert m.start_time.wall_time == START_WALL
    assert (m.end_time.wall_time, m.end_time.logical) == (END_WALL, 3)
    (f,) = m.files
    assert (f.span.key, f.span.end_key) == (b"\xf0\x89", b"\xf0\x8a")
    assert f.path == "data/915371253014839297.sst"
    assert (f.entry_counts.data_size, f.entry_counts.rows) == (4096, 17)
    t = m.descriptors[0].table
    assert (t.name, t.id, t.parent_id, t.unexposed_parent_schema_id) == ("users", 104, 100, 29)
    assert m.format_version == 1
    assert m.mvcc_filter == backup_pb2.All
    assert m.descriptor_coverage == 1
    assert mf.is_incremental(m)


def test_gzipped_hand_bytes_and_reencoding_is_byte_exact() -> None:
    raw = hand_manifest()
    m = mf.decode_manifest(gzip.compress(raw))
    stored, check = mf.encode_manifest(m)
    assert gzip.decompress(stored) == raw
    assert check == hashlib.sha256(stored).digest()[:4]


def test_gzip_header_is_the_one_go_writes() -> None:
    stored, _ = mf.encode_manifest(mf.decode_manifest(hand_manifest()))
    # magic, CM=8, FLG=0, MTIME=0, XFL=0 (default level), OS=255 (Go's "unknown")
    assert stored[:10] == bytes.fromhex("1f8b0800000000000 0ff".replace(" ", ""))


def test_unknown_fields_survive_parse_and_reencode() -> None:
    dir_field = lfield(7, lfield(1, vfield(1, 3)))  # cloudpb.ExternalStorage, not modelled
    tenants = lfield(26, lfield(1, vfield(1, 10)))  # TenantInfoWithUsage, not modelled
    column = lfield(8, lfield(1, b"id") + vfield(2, 1))  # TableDescriptor.columns, not modelled
    table = lfield(1, b"t") + vfield(3, 104) + column
    raw = lfield(2, vfield(1, END_WALL)) + lfield(5, lfield(1, table)) + dir_field + tenants
    m = mf.decode_manifest(raw)
    again = gzip.decompress(mf.encode_manifest(m)[0])
    assert dir_field in again and tenants in again and column in again
    assert mf.decode_manifest(again) == m


def test_function_descriptor_is_oneof_field_5() -> None:
    fn = lfield(1, b"add_one") + vfield(2, 110) + vfield(3, 100) + vfield(4, 29)
    raw = lfield(2, vfield(1, END_WALL)) + lfield(5, lfield(5, fn))
    d = mf.decode_manifest(raw).descriptors[0]
    assert d.WhichOneof("union") == "function"
    assert (d.function.name, d.function.id, d.function.parent_id) == ("add_one", 110, 100)


def test_descriptor_kinds_field_numbers() -> None:
    db = lfield(2, lfield(1, b"bank") + vfield(2, 100) + vfield(8, 2))
    typ = lfield(3, vfield(1, 100) + vfield(2, 101) + lfield(3, b"status") + vfield(4, 107))
    sch = lfield(4, vfield(1, 100) + lfield(2, b"accounts") + vfield(3, 101))
    raw = lfield(2, vfield(1, END_WALL)) + b"".join(lfield(5, x) for x in (db, typ, sch))
    d_db, d_type, d_schema = mf.decode_manifest(raw).descriptors
    assert (d_db.database.name, d_db.database.id) == ("bank", 100)
    assert d_db.database.state == descriptors_pb2.DROP
    assert (d_type.type.name, d_type.type.id, d_type.type.parent_schema_id) == ("status", 107, 101)
    assert (d_schema.schema.name, d_schema.schema.id, d_schema.schema.parent_id) == (
        "accounts",
        101,
        100,
    )


# --- checksum, encryption, errors -----------------------------------------------------------------


def test_checksum_is_first_four_bytes_of_sha256() -> None:
    assert mf.checksum(b"") == bytes.fromhex("e3b0c442")
    assert mf.checksum(b"abc") == bytes.fromhex("ba7816bf")


def test_matching_checksum_is_accepted() -> None:
    stored = gzip.compress(hand_manifest())
    assert mf.decode_manifest(stored, checksum=mf.checksum(stored)).format_version == 1


def test_checksum_mismatch_names_file_and_both_values() -> None:
    stored = gzip.compress(hand_manifest())
    with pytest.raises(FormatError) as err:
        mf.decode_manifest(stored, checksum=bytes.fromhex("1a2b3c4d"))
    computed = mf.checksum(stored).hex()
    assert str(err.value) == (
        "BACKUP_MANIFEST: checksum mismatch "
        f"(stored BACKUP_MANIFEST-CHECKSUM 1a2b3c4d, computed {computed})"
    )


def test_checksum_mismatch_uses_the_given_name() -> None:
    with pytest.raises(FormatError, match="^BACKUP_METADATA: checksum mismatch"):
        mf.decode_manifest(b"x", checksum=b"\0\0\0\0", name=mf.BACKUP_METADATA)


CHUNK = 64 << 10


def encrypt_v2(key: bytes, plaintext: bytes) -> bytes:
    """CockroachDB storageccl v2 format written from the spec with `cryptography` directly."""
    iv = os.urandom(12)
    gcm = AESGCM(key)
    out = bytearray(b"encrypt\x02" + iv)
    chunks = [plaintext[i : i + CHUNK] for i in range(0, len(plaintext), CHUNK)]
    if not chunks or len(chunks[-1]) == CHUNK:
        chunks.append(b"")
    for i, chunk in enumerate(chunks):
        ctr = (int.from_bytes(iv[4:], "big") + i) % 2**64
        out += gcm.encrypt(iv[:4] + ctr.to_bytes(8, "big"), chunk, None)
    return bytes(out)


def decrypt_v2(key: bytes, data: bytes) -> bytes:
    assert data[:8] == b"encrypt\x02"
    iv, body, gcm = data[8:20], data[20:], AESGCM(key)
    out = bytearray()
    for i in range(0, len(body), CHUNK + 16):
        ctr = (int.from_bytes(iv[4:], "big") + i // (CHUNK + 16)) % 2**64
        out += gcm.decrypt(iv[:4] + ctr.to_bytes(8, "big"), body[i : i + CHUNK + 16], None)
    return bytes(out)


def test_encrypted_manifest_round_trip_gzip_before_encryption() -> None:
    key = os.urandom(32)
    m = mf.decode_manifest(hand_manifest())
    stored, check = mf.encode_manifest(m, encrypt=lambda b: encrypt_v2(key, b))
    assert stored.startswith(b"encrypt\x02")
    assert check == mf.checksum(stored)  # over the encrypted bytes
    assert decrypt_v2(key, stored).startswith(b"\x1f\x8b\x08")  # gzip inside encryption
    back = mf.decode_manifest(stored, decrypt=lambda b: decrypt_v2(key, b), checksum=check)
    assert back == m


def test_encrypted_without_decrypt_says_file_appears_encrypted() -> None:
    stored = encrypt_v2(os.urandom(32), gzip.compress(hand_manifest()))
    with pytest.raises(FormatError) as err:
        mf.decode_manifest(stored)
    assert str(err.value) == (
        "BACKUP_MANIFEST: file appears encrypted; pass KMS = ... or ENCRYPTION_PASSPHRASE = ..."
    )


def test_wrong_key_is_a_format_error_naming_the_file() -> None:
    stored = encrypt_v2(os.urandom(32), gzip.compress(hand_manifest()))
    with pytest.raises(FormatError, match=r"^BACKUP_METADATA: failed to decrypt \(InvalidTag\)$"):
        mf.decode_manifest(
            stored, decrypt=lambda b: decrypt_v2(os.urandom(32), b), name=mf.BACKUP_METADATA
        )


def test_key_given_for_unencrypted_manifest_is_refused() -> None:
    with pytest.raises(FormatError, match="does not appear to be encrypted"):
        mf.decode_manifest(gzip.compress(hand_manifest()), decrypt=lambda b: b)


@pytest.mark.parametrize(
    ("stored", "message"),
    [
        (b"", "empty manifest"),
        (b"\x1f\x8b\x08\x00garbage", "decompressing backup manifest"),
        (b"\xff\xff\xff\xff", "not a BackupManifest protobuf"),
        (lfield(3, b"\x01"), "not a BackupManifest protobuf"),  # Span field 1 is reserved
        (vfield(8, 1), "no end time"),
        (gzip.compress(b"\x0a\x05", mtime=0), "not a BackupManifest protobuf"),  # truncated field
    ],
)
def test_garbage_raises_format_error_naming_the_file(stored: bytes, message: str) -> None:
    with pytest.raises(FormatError, match=f"^BACKUP: .*{message}"):
        mf.decode_manifest(stored, name=mf.BACKUP_LEGACY)


# --- encode ---------------------------------------------------------------------------------------


def test_encode_sorts_files_by_span_without_touching_the_input() -> None:
    m = mf.BackupManifest()
    m.end_time.wall_time = END_WALL
    spans = [(b"\xf1", b"\xf2", "c"), (b"\xf0", b"\xf2", "b"), (b"\xf0", b"\xf1", "a")]
    for key, end, path in spans:
        m.files.add(span=mf.Span(key=key, end_key=end), path=path)
    back = mf.decode_manifest(mf.encode_manifest(m)[0])
    assert [f.path for f in back.files] == ["a", "b", "c"]
    assert [f.path for f in m.files] == ["c", "b", "a"]


keys_st = st.binary(min_size=0, max_size=8)
file_st = st.builds(
    lambda k, e, p, r, s: mf.ManifestFile(
        span=mf.Span(key=k, end_key=e), path=p, entry_counts=mf.RowCount(rows=r, data_size=s)
    ),
    keys_st,
    keys_st,
    st.text(min_size=1, max_size=20),
    st.integers(0, 2**40),
    st.integers(0, 2**40),
)


@settings(max_examples=60, deadline=None)
@given(
    start=st.integers(0, 2**62),
    end=st.integers(1, 2**62),
    logical=st.integers(0, 2**31 - 1),
    files=st.lists(file_st, max_size=6),
    coverage=st.integers(0, 1),
)
def test_round_trip(start: int, end: int, logical: int, files: list, coverage: int) -> None:
    m = mf.BackupManifest(descriptor_coverage=coverage, format_version=1)
    m.start_time.wall_time = start
    m.end_time.wall_time, m.end_time.logical = end, logical
    m.files.extend(files)
    stored, check = mf.encode_manifest(m)
    back = mf.decode_manifest(stored, checksum=check)
    assert sorted(back.files, key=lambda f: (f.span.key, f.span.end_key)) == list(back.files)
    assert sorted(f.SerializeToString() for f in back.files) == sorted(
        f.SerializeToString() for f in files
    )
    back.ClearField("files")
    m.ClearField("files")
    assert back == m


# --- time helpers ---------------------------------------------------------------------------------


def test_hlc_datetime_conversions() -> None:
    assert mf.hlc_to_datetime(mf.Timestamp()) is None
    ts = mf.Timestamp(wall_time=1_700_000_000_123_456_789, logical=2)
    assert mf.hlc_to_datetime(ts) == datetime(2023, 11, 14, 22, 13, 20, 123456, tzinfo=UTC)
    dt = datetime(2023, 11, 9, 17, 47, 26, 480000, tzinfo=UTC)
    assert mf.datetime_to_hlc(dt).wall_time == END_WALL
    assert mf.datetime_to_hlc(dt, logical=5).logical == 5
    assert mf.datetime_to_hlc(dt.replace(tzinfo=None)).wall_time == END_WALL
    assert mf.hlc_to_datetime(mf.datetime_to_hlc(dt)) == dt


def test_hlc_extremes_convert() -> None:
    top = mf.hlc_to_datetime(mf.Timestamp(wall_time=mf.MAX_WALL_TIME, logical=mf.MAX_LOGICAL))
    assert top == datetime(2262, 4, 11, 23, 47, 16, 854775, tzinfo=UTC)
    bottom = mf.hlc_to_datetime(mf.Timestamp(wall_time=-(2**63)))
    assert bottom == datetime(1677, 9, 21, 0, 12, 43, 145224, tzinfo=UTC)


def test_is_incremental_follows_start_time() -> None:
    m = mf.BackupManifest()
    assert not mf.is_incremental(m)
    m.start_time.wall_time = 1
    assert mf.is_incremental(m)


def test_manifest_names_order() -> None:
    assert mf.MANIFEST_NAMES == ("BACKUP_MANIFEST", "BACKUP_METADATA", "BACKUP")
    assert mf.BACKUP_MANIFEST + mf.CHECKSUM_SUFFIX == "BACKUP_MANIFEST-CHECKSUM"


# --- slim manifest and builders -------------------------------------------------------------------

END = datetime(2024, 5, 20, 12, 0, 0, tzinfo=UTC)


def sample() -> mf.BackupManifest:
    return mf.build_manifest(
        start=None,
        end=END,
        descriptors=[mf.database_descriptor(100, "bank"), mf.table_descriptor(104, 100, "users")],
        files=[mf.manifest_file("data/1.sst", 104, rows=5, data_size=500)],
        cluster=False,
    )


def test_slim_manifest_placeholders_match_cockroachdb() -> None:
    m = sample()
    slim = mf.slim_manifest(m)
    assert slim.has_external_manifest_ssts
    (f,) = slim.files
    assert (f.span.key, f.span.end_key) == (b"", b"\xff\xff")
    assert f.path == "assertion: this placeholder legacy Files entry should never be opened"
    (d,) = slim.descriptors
    assert d.table.id == 1 and d.table.version == 1
    assert d.table.name == (
        "assertion: this placeholder legacy Descriptor entry should never be used"
    )
    assert (d.table.modification_time.wall_time, d.table.modification_time.logical) == (
        2**63 - 1,
        2**31 - 1,
    )
    (rev,) = slim.descriptor_changes
    assert rev.id == 1 and rev.desc == d and rev.time == d.table.modification_time
    assert (slim.end_time, slim.id, slim.spans) == (m.end_time, m.id, m.spans)
    assert len(m.files) == 1 and m.files[0].path == "data/1.sst"  # input untouched
    stored, check = mf.encode_manifest(slim)
    assert mf.decode_manifest(stored, checksum=check, name=mf.BACKUP_METADATA) == slim


def test_build_manifest_is_shaped_like_cockroachdb_writes_it() -> None:
    files = [
        mf.manifest_file("data/2.sst", 104, b"\x89\xa0", None, rows=7, data_size=70),
        mf.manifest_file("data/1.sst", 104, b"\x89", b"\x89\xa0", rows=3, data_size=30),
    ]
    m = mf.build_manifest(
        start=None,
        end=END,
        descriptors=[mf.database_descriptor(100, "bank"), mf.table_descriptor(104, 100, "users")],
        files=files,
        cluster=True,
    )
    assert m.format_version == 1 and m.descriptor_coverage == 1
    assert len(m.cluster_id) == 16 and len(m.id) == 16 and m.cluster_id != m.id
    assert m.build_info.tag == "v24.1.0" and m.node_id == 1
    assert (m.cluster_version.major_val, m.cluster_version.minor_val) == (24, 1)
    assert list(m.complete_dbs) == [100]
    assert [(s.key, s.end_key) for s in m.spans] == [(b"\xf0\x89", b"\xf0\x8a")]
    assert [f.path for f in m.files] == ["data/1.sst", "data/2.sst"]
    assert (m.files[0].span.key, m.files[0].span.end_key) == (b"\xf0\x89", b"\xf0\x89\xa0")
    assert (m.files[1].span.key, m.files[1].span.end_key) == (b"\xf0\x89\xa0", b"\xf1")
    assert (m.entry_counts.rows, m.entry_counts.data_size) == (10, 100)
    assert mf.hlc_to_datetime(m.end_time) == END and not mf.is_incremental(m)
    assert m.mvcc_filter == backup_pb2.Latest and not m.descriptor_changes


def test_build_manifest_incremental_with_revision_history() -> None:
    start = datetime(2024, 5, 20, 11, 0, tzinfo=UTC)
    m = mf.build_manifest(
        start=start,
        end=END,
        descriptors=[mf.table_descriptor(104, 100, "users", modified=start)],
        files=[],
        cluster=False,
        revision_history=True,
        tenant_id=10,
    )
    assert mf.is_incremental(m) and m.mvcc_filter == backup_pb2.All
    assert m.revision_start_time == mf.datetime_to_hlc(start)
    (rev,) = m.descriptor_changes
    assert rev.id == 104 and rev.time == mf.datetime_to_hlc(start)
    assert rev.desc.table.name == "users"
    assert m.spans[0].key == b"\xfe\x92\xf0\x89"  # /Tenant/10/Table/104/1


def test_prefix_end() -> None:
    assert mf.prefix_end(b"\xf0") == b"\xf1"
    assert mf.prefix_end(b"\xf0\xff") == b"\xf1"
    assert mf.prefix_end(b"\xff\xff") == b"\xff\xff"


def test_slim_manifest_agrees_with_the_independent_writer() -> None:
    """engine's slim_manifest and crdb_fixtures' hand-written BACKUP_METADATA (both from
    writeExternalSSTsMetadata, pkg/backup/backupinfo/manifest_handling.go) carry the same
    placeholders, spans and flag."""
    import crdb_fixtures as fx

    end = datetime(2026, 6, 1, 10, 0, 0, 340000, tzinfo=UTC)
    tables = [fx.FixtureTable(106, "accounts", 1000, 64000)]
    theirs = backup_pb2.BackupManifest.FromString(fx.slim_manifest(start=None, end=end, tables=tables))
    full = backup_pb2.BackupManifest.FromString(fx.manifest(start=None, end=end, db=(104, "bank"), tables=tables))
    full.spans.extend(theirs.spans)
    ours = mf.slim_manifest(full)
    for field in ("files", "descriptors", "descriptor_changes", "spans", "end_time", "has_external_manifest_ssts"):
        assert getattr(ours, field) == getattr(theirs, field), field
