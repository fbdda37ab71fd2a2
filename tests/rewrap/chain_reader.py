"""An independent check that a backup chain opens with a KMS key, the way CockroachDB would.

Built on tests/crdb_fixtures.py only (nothing from engine/): walk the directory with os, parse
every ENCRYPTION-INFO* file by hand, find sha256(key id), unwrap with testkms' rule (value = data
key || key id), then AES-GCM-decrypt and gunzip every manifest of the chain (the full backup and
every incremental, both layouts) and check its checksum file. Used to grade what rewrap wrote
without trusting rewrap's own reader.

A layer with only BACKUP_METADATA (the slim manifest, all CockroachDB 26.3 writes) is opened the
same way, and its filelist.sst, descriptorslist.sst and data files must decrypt whole with the
key (AES-GCM: every chunk's tag) and end in Pebble's table magic.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import crdb_fixtures as fx  # noqa: E402

MANIFEST = "BACKUP_MANIFEST"
SLIM = "BACKUP_METADATA"
SLIM_LISTS = ("filelist.sst", "descriptorslist.sst")
PEBBLE_MAGIC = b"\xf0\x9f\xaa\xb3\xf0\x9f\xaa\xb3"


def layer_manifest(layer_dir: Path) -> Path | None:
    """BACKUP_MANIFEST if the layer has one, else BACKUP_METADATA, else None."""
    for name in (MANIFEST, SLIM):
        if (layer_dir / name).is_file():
            return layer_dir / name
    return None


def encryption_files(backup_dir: Path) -> dict[str, bytes]:
    """Every file whose name starts with ENCRYPTION-INFO (CockroachDB's prefix rule)."""
    return {
        p.name: p.read_bytes()
        for p in sorted(backup_dir.iterdir())
        if p.is_file() and p.name.startswith("ENCRYPTION-INFO")
    }


def parse_info(name: str, data: bytes) -> dict[bytes, bytes]:
    """The KMS map of one file; AssertionError if the file is not exactly a well-formed proto.

    Re-encoding the parsed entries must give the same bytes back: a truncated (partial) file
    fails that even when a lenient parser would accept its prefix.
    """
    entries: dict[bytes, bytes] = {}
    try:
        for entry in fx.field_values(data, 3):
            assert isinstance(entry, bytes)
            key = fx.field_values(entry, 1)
            value = fx.field_values(entry, 2)
            assert len(key) == 1 and len(value) == 1, f"{name}: malformed map entry"
            entries[key[0]] = value[0]
    except (IndexError, ValueError) as e:
        raise AssertionError(f"{name}: does not parse ({e})") from None
    assert fx.encryption_info(kms=entries) == data, f"{name}: partial or non-canonical"
    assert all(len(k) == 32 for k in entries), f"{name}: map key is not a sha256 digest"
    return entries


def all_entries(backup_dir: Path, skip: tuple[str, ...] = ()) -> dict[str, dict[bytes, bytes]]:
    """file name -> map, asserting that every ENCRYPTION-INFO* file (but `skip`) is whole and
    parseable."""
    files = encryption_files(backup_dir)
    return {name: parse_info(name, data) for name, data in files.items() if name not in skip}


def key_count(backup_dir: Path, key_id: str) -> int:
    """How many ENCRYPTION-INFO* files hold an entry for `key_id`."""
    h = hashlib.sha256(key_id.encode()).digest()
    return sum(h in m for m in all_entries(backup_dir).values())


def chain_manifests(coll_dir: Path, subdir: str) -> list[Path]:
    """The full backup's manifest, then every incremental's (new and old layout)."""
    rel = subdir.strip("/")
    full = coll_dir / rel
    first = layer_manifest(full)
    assert first is not None, f"{full}: no manifest"
    found = [first]
    for base in (coll_dir / "incrementals" / rel, full):
        if not base.is_dir():
            continue
        for day in sorted(p for p in base.iterdir() if p.is_dir() and p.name != "data"):
            for inc in sorted(p for p in day.iterdir() if p.is_dir()):
                m = layer_manifest(inc)
                if m is not None:
                    found.append(m)
    return found


def data_key(coll_dir: Path, subdir: str, key_id: str, skip: tuple[str, ...] = ()) -> bytes:
    """Unwrap the data key for `key_id` from any ENCRYPTION-INFO* file (testkms rule)."""
    h = hashlib.sha256(key_id.encode()).digest()
    for name, entries in all_entries(coll_dir / subdir.strip("/"), skip).items():
        if h in entries:
            key = fx.testkms_unwrap(key_id, entries[h])
            assert len(key) == 32, f"{name}: unwrapped key has {len(key)} bytes"
            return key
    raise AssertionError(f"no ENCRYPTION-INFO file of {subdir} holds key id {key_id!r}")


def open_chain(coll_dir: Path, subdir: str, key_id: str, skip: tuple[str, ...] = ()) -> int:
    """Decrypt every manifest of the chain with the key `key_id` unwraps; returns how many.

    Every ENCRYPTION-INFO* file but those in `skip` must parse whole.
    """
    key = data_key(coll_dir, subdir, key_id, skip)
    manifests = chain_manifests(coll_dir, subdir)
    for path in manifests:
        stored = path.read_bytes()
        checksum = path.with_name(path.name + "-CHECKSUM")
        assert checksum.read_bytes() == hashlib.sha256(stored).digest()[:4], f"{path}: checksum"
        plain = gzip.decompress(fx.open_encrypted(key, stored))
        assert fx.field_values(plain, 2), f"{path}: manifest has no end time"
        if path.name == SLIM:
            assert fx.field_values(plain, 27) == [1], f"{path}: not a slim manifest (field 27)"
            for name in SLIM_LISTS:
                sst = fx.open_encrypted(key, (path.parent / name).read_bytes())
                assert sst.endswith(PEBBLE_MAGIC), f"{path.parent / name}: not a Pebble table"
            for data in sorted((path.parent / "data").glob("*.sst")):
                assert fx.open_encrypted(key, data.read_bytes()).endswith(PEBBLE_MAGIC), data
    return len(manifests)


def crdb_wrapped(backup_dir: Path, *key_ids: str) -> bytes:
    """The wrapped data key CockroachDB's reader decrypts for `WITH KMS = (key_ids...)`.

    cockroachdb/cockroach pkg/backup/backupencryption/encryption.go (commit 200d56f7):
    ReadEncryptionOptions reads every ENCRYPTION-INFO* file, lexically last name first, and
    fails if any one does not parse; GetEncryptionFromBaseStore takes the first file whose map
    holds every given id (ValidateKMSURIsAgainstFullBackup) and GetEncryptionKey decrypts the
    first id's entry of that file, trying nothing else.
    """
    files = encryption_files(backup_dir)
    assert files, f"{backup_dir}: no ENCRYPTION-INFO files found"
    maps = [(n, parse_info(n, files[n])) for n in sorted(files, key=str.encode, reverse=True)]
    hashes = [hashlib.sha256(k.encode()).digest() for k in key_ids]
    for _, entries in maps:
        if all(h in entries for h in hashes):
            return entries[hashes[0]]
    raise AssertionError(
        f"one of the provided URIs was not used when encrypting the base BACKUP: {key_ids}"
    )


def crdb_data_key(backup_dir: Path, *key_ids: str) -> bytes:
    """crdb_wrapped, unwrapped with testkms' rule (value = data key || key id)."""
    key = fx.testkms_unwrap(key_ids[0], crdb_wrapped(backup_dir, *key_ids))
    assert len(key) == 32, f"unwrapped key has {len(key)} bytes"
    return key


def open_chain_with(coll_dir: Path, subdir: str, key: bytes) -> int:
    """Decrypt and gunzip every manifest of the chain with `key`; returns how many."""
    manifests = chain_manifests(coll_dir, subdir)
    for path in manifests:
        plain = gzip.decompress(fx.open_encrypted(key, path.read_bytes()))
        assert fx.field_values(plain, 2), f"{path}: manifest has no end time"
    return len(manifests)


def crdb_open_chain(coll_dir: Path, subdir: str, *key_ids: str) -> int:
    """open_chain, but the testkms key found by CockroachDB's rule (crdb_data_key)."""
    return open_chain_with(coll_dir, subdir, crdb_data_key(coll_dir / subdir.strip("/"), *key_ids))


def full_backups(coll_dir: Path) -> list[str]:
    """'/YYYY/MM/DD-HHMMSS.hh' of every directory holding a manifest (either name) three levels
    down."""
    out = []
    for year in sorted(p for p in coll_dir.iterdir() if p.name.isdigit()):
        for month in sorted(year.iterdir()):
            for day in sorted(month.iterdir()):
                if layer_manifest(day) is not None:
                    out.append("/" + day.relative_to(coll_dir).as_posix())
    return out


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under `root` and a digest of its bytes (to prove nothing changed)."""
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            p = Path(dirpath, f)
            out[p.relative_to(root).as_posix()] = hashlib.sha256(p.read_bytes()).digest()
    return out
