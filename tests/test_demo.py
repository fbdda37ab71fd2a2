"""`rewrap demo` output, checked by the independent reader in crdb_fixtures (spec only)."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pytest

import crdb_fixtures as fx
from engine.demo import write_demo
from engine.errors import RewrapError

FULL_RE = r"^\d{4}/\d{2}/\d{2}-\d{6}\.\d{2}$"


def decode_latest(name: str) -> str:
    raw = bytes.fromhex(name[len("LATEST-"):])
    assert raw[0] == 0x13 and raw[-2:] == b"\xff\xfe"
    return bytes(b ^ 0xFF for b in raw[1:-2]).decode()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("demo") / "coll"
    write_demo(d, seed=7)
    return d


def test_layout_is_cockroach_22_2_plus(demo: Path) -> None:
    fulls = sorted(p.parent.relative_to(demo).as_posix() for p in demo.glob("*/*/*/BACKUP_MANIFEST"))
    assert len(fulls) == 3
    for full in fulls:
        incs = sorted(demo.glob(f"incrementals/{full}/*/*/BACKUP_MANIFEST"))
        assert len(incs) >= 2
        assert (demo / full / "ENCRYPTION-INFO").exists()
        for inc in incs:  # incrementals reuse the full backup's ENCRYPTION-INFO
            assert not (inc.parent / "ENCRYPTION-INFO").exists()
    latest = sorted((demo / "metadata/latest").iterdir())
    assert len(latest) == 3
    # newest = lexically smallest name; it points at the newest full backup
    assert latest[0].read_bytes() == ("/" + fulls[-1]).encode()
    stamps = [decode_latest(p.name) for p in latest]
    assert stamps == sorted(stamps, reverse=True)
    assert all(s.endswith("") and " +0000 UTC m=+" in s for s in stamps)


def test_every_layer_opens_with_the_testkms_key(demo: Path) -> None:
    for full_manifest in demo.glob("*/*/*/BACKUP_MANIFEST"):
        full = full_manifest.parent
        info = (full / "ENCRYPTION-INFO").read_bytes()
        entries = {}
        for entry in fx.field_values(info, 3):
            fields = dict(fx.parse_fields(entry))
            entries[fields[1]] = fields[2]
        wrapped = entries[hashlib.sha256(b"demo-key").digest()]
        key = fx.testkms_unwrap("demo-key", wrapped)
        assert len(key) == 32
        rel = full.relative_to(demo).as_posix()
        layers = [full] + sorted(p.parent for p in demo.glob(f"incrementals/{rel}/*/*/BACKUP_MANIFEST"))
        prev_end = None
        for layer in layers:
            stored = (layer / "BACKUP_MANIFEST").read_bytes()
            assert (layer / "BACKUP_MANIFEST-CHECKSUM").read_bytes() == hashlib.sha256(stored).digest()[:4]
            plain = fx.open_encrypted(key, stored)
            assert plain[:3] == b"\x1f\x8b\x08"
            m = gzip.decompress(plain)
            start = fx.field_values(m, 1)
            end = dict(fx.parse_fields(fx.field_values(m, 2)[0]))[1]
            if prev_end is None:
                assert not start
            else:
                assert dict(fx.parse_fields(start[0]))[1] == prev_end
            prev_end = end
            files = fx.field_values(m, 4)
            assert len(files) == 4
            for f in files:
                path = dict(fx.parse_fields(f))[2].decode()
                data = fx.open_encrypted(key, (layer / path).read_bytes())
                assert data[-8:] == b"\xf0\x9f\xaa\xb3\xf0\x9f\xaa\xb3"  # Pebble table magic
            names = [dict(fx.parse_fields(d)) for d in fx.field_values(m, 5)]
            kinds = [next(iter(n)) for n in names]
            assert kinds == [2, 4, 1, 1, 1, 1]  # database, schema, 4 tables


def test_seeded_demo_is_reproducible(tmp_path: Path) -> None:
    write_demo(tmp_path / "a", seed=1)
    write_demo(tmp_path / "b", seed=1)
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files_a)


def test_demo_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep").write_text("mine")
    with pytest.raises(RewrapError, match="not empty"):
        write_demo(tmp_path / "x")
    assert (tmp_path / "x" / "keep").read_text() == "mine"


def test_demo_under_another_kms_id(tmp_path: Path) -> None:
    write_demo(tmp_path / "k", kms_uri="testkms:///other-key?AUTH=implicit", seed=2)
    info = next((tmp_path / "k").glob("*/*/*/ENCRYPTION-INFO")).read_bytes()
    keys = [dict(fx.parse_fields(e))[1] for e in fx.field_values(info, 3)]
    assert keys == [hashlib.sha256(b"other-key").digest()]
