"""engine/storage/snapshot.py answers listings from one listing made up front; every answer must
be the real storage's, byte for byte, whatever the prefix, the delimiter and the child root."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.retirement import check_retirement
from engine.storage import StorageSettings, open_storage
from engine.storage.snapshot import SnapshotStorage

DELIMITERS = ("", "/", "data/", "-", "/x")


def prefixes(keys: list[str]) -> set[str]:
    """Every directory prefix of every key, and a few cut mid-name."""
    out = {""}
    for k in keys:
        parts = k.split("/")
        for n in range(1, len(parts)):
            d = "/".join(parts[:n]) + "/"
            out |= {d, d[:-1], d[:-3]}
        out.add(k)
    return out


@pytest.fixture
def storage(coll_dir: Path):  # type: ignore[no-untyped-def]
    # a planted `data/` oddity: a directory named data/ with a nested data/ below a backup
    (coll_dir / "odd" / "data" / "x" / "data").mkdir(parents=True)
    (coll_dir / "odd" / "data" / "x" / "data" / "f").write_bytes(b"1")
    (coll_dir / "odd" / "metadata-like").write_bytes(b"2")
    return open_storage(f"file://{coll_dir}", settings=StorageSettings())


def test_every_listing_is_the_real_one(storage) -> None:  # type: ignore[no-untyped-def]
    real = list(storage.list(""))
    snap = SnapshotStorage.of(storage)
    roots = ["", *sorted({k.rsplit("/", 2)[0] for k in real if k.count("/") >= 2})[:40]]
    checked = 0
    for root in roots:
        inner = storage.child(root) if root else storage
        cached = snap.child(root) if root else snap
        inner_keys = list(inner.list(""))
        for prefix in sorted(prefixes(inner_keys))[:300]:
            for delimiter in DELIMITERS:
                assert list(cached.list(prefix, delimiter)) == list(inner.list(prefix, delimiter)), \
                    (root, prefix, delimiter)
                checked += 1
    assert checked > 1000
    assert snap.snapshot.fallbacks > 0  # data files are not in the snapshot: those listings fall through


def test_a_retirement_check_lists_the_collection_once(io_dir: Path, coll_dir: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    calls: list[tuple[str, str]] = []
    made: list[SnapshotStorage] = []
    real_of = SnapshotStorage.of

    def counting_of(storage):  # type: ignore[no-untyped-def]
        original = storage.list

        def listed(prefix: str = "", delimiter: str = ""):  # type: ignore[no-untyped-def]
            calls.append((prefix, delimiter))
            return original(prefix, delimiter)

        storage.list = listed
        made.append(real_of(storage))
        return made[-1]

    monkeypatch.setattr(SnapshotStorage, "of", staticmethod(counting_of))
    report = check_retirement(lambda uri: open_storage(uri, settings=StorageSettings(external_io_dir=io_dir)),
                              "testkms:///demo-key", ["nodelocal://self/coll"], ["testkms:///new"])
    assert [p.verdict for p in report.proofs] == ["needs ALTER"] * 3
    assert calls == [("", "data/"), ("metadata/", "")]  # and nothing per backup
    assert made[0].snapshot.fallbacks == 0  # every backup's listings came from the snapshot
