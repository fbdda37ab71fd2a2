"""The inspection service against real local storage: listing order, LATEST, chains, key
files (the same rows as SHOW BACKUP KEYS), unlockers, sizes equal to what the manifests record
(and to SHOW BACKUP's size_bytes), cache reuse and expiry. No Textual."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import pytest
from inspection_support import DEMO_KMS, LocalDemo

from engine.collection import Collection
from engine.encryption import read_encryption_files, unlocked_key
from engine.execute import Executor
from engine.inspection import (
    UNKNOWN_UNTIL_UNLOCKED,
    Inspector,
    KMSMemory,
    LayerSizes,
    SizeUnknown,
    end_time_from_path,
    statement_kms_uris,
)
from engine.reader import read_contents
from syntax import parse

OTHER_KMS = "testkms:///other-key"


def run(demo: LocalDemo, sql: str):  # type: ignore[no-untyped-def]
    result = Executor(demo.settings).run(parse(sql)[0])
    assert result.ok, result.error
    return result


def test_listing_is_newest_first_with_latest_marked(local_demo: LocalDemo) -> None:
    with Inspector(local_demo.opener()) as insp:
        listing = insp.listing(local_demo.uri)
    coll = Collection(local_demo.opener()(local_demo.uri))
    chronological = coll.full_backups()
    assert len(chronological) == 3
    assert [f.subdir for f in listing.full_backups] == chronological[::-1]
    assert listing.subdirs == tuple(chronological)
    assert [f.latest for f in listing.full_backups] == [True, False, False]
    assert listing.latest == coll.latest() == chronological[-1]
    shown = run(local_demo, f"SHOW BACKUPS IN '{local_demo.uri}'")
    assert [r[0] for r in shown.rows] == chronological  # what SHOW BACKUPS lists, same order


def test_chains_are_the_incrementals_in_chain_order(local_demo: LocalDemo) -> None:
    with Inspector(local_demo.opener()) as insp:
        for full in insp.listing(local_demo.uri).full_backups:
            layers = insp.incrementals(local_demo.uri, full.subdir)
            expected = Collection(local_demo.opener()(local_demo.uri)).full_backup(full.subdir).incrementals()
            assert [layer.path for layer in layers] == [layer.path for layer in expected]
            assert len(layers) == 3 and all(not layer.is_full for layer in layers)
            ends = [end_time_from_path(layer.path) for layer in layers]
            assert ends == sorted(ends) and "unknown" not in ends
        assert [layer.path for layer in insp.incrementals(local_demo.uri, "LATEST")] == [
            layer.path for layer in insp.incrementals(local_demo.uri, insp.listing(local_demo.uri).latest or "")
        ]


def test_key_files_are_show_backup_keys_rows(local_demo: LocalDemo) -> None:
    latest = Collection(local_demo.opener()(local_demo.uri)).latest()
    run(local_demo, f"ALTER BACKUP '{latest}' IN '{local_demo.uri}' ADD NEW_KMS = '{OTHER_KMS}' "
                    f"WITH OLD_KMS = '{DEMO_KMS}'")
    with Inspector(local_demo.opener()) as insp:
        keys = insp.key_files(local_demo.uri, latest)
    shown = run(local_demo, f"SHOW BACKUP KEYS FROM '{latest}' IN '{local_demo.uri}'")
    assert keys.mode == "kms"
    assert [(r.file, r.fingerprint, None, r.note) for r in keys.rows] == [tuple(row) for row in shown.rows]
    assert [r.file for r in keys.rows] == ["ENCRYPTION-INFO", "ENCRYPTION-INFO-2"]
    assert len({r.fingerprint for r in keys.rows}) == 2


def test_unlockers_match_by_key_id_without_a_kms_call(local_demo: LocalDemo) -> None:
    with Inspector(local_demo.opener()) as insp:
        latest = insp.listing(local_demo.uri).latest or ""
        assert insp.unlockers(local_demo.uri, latest) == []
        insp.kms.remember(OTHER_KMS)
        insp.kms.remember("testkms:///bad uri?x=%zz")  # does not parse: unlocks nothing, no error
        assert insp.unlockers(local_demo.uri, latest) == []
        insp.kms.remember(DEMO_KMS)
        assert insp.unlockers(local_demo.uri, latest) == [DEMO_KMS]
        # A rotation adds OTHER_KMS; after `refresh` (the app calls it when a statement ends)
        # the new ENCRYPTION-INFO file is read and both unlock, in the order remembered.
        run(local_demo, f"ALTER BACKUP LATEST IN '{local_demo.uri}' ADD NEW_KMS = '{OTHER_KMS}' "
                        f"WITH OLD_KMS = '{DEMO_KMS}'")
        assert insp.unlockers(local_demo.uri, latest) == [DEMO_KMS]  # cached until refreshed
        insp.refresh(local_demo.uri)
        assert insp.unlockers(local_demo.uri, latest) == [OTHER_KMS, DEMO_KMS]


def _show_backup_sizes(demo: LocalDemo, subdir: str) -> list[tuple[int, int]]:
    """(size_bytes, rows) per layer, oldest first, as SHOW BACKUP adds them up per table."""
    result = run(demo, f"SHOW BACKUP '{subdir}' IN '{demo.uri}' WITH KMS = '{DEMO_KMS}'")
    by_layer: dict[datetime, list[int]] = defaultdict(lambda: [0, 0])
    for row in result.rows:
        d = dict(zip(result.columns, row))
        if d["size_bytes"] is not None:
            by_layer[d["end_time"]][0] += d["size_bytes"]
            by_layer[d["end_time"]][1] += d["rows"]
    return [(size, rows) for size, rows in (by_layer[k] for k in sorted(by_layer))]


@pytest.mark.parametrize("layout", ["local_demo", "slim_demo"])
def test_sizes_are_what_the_manifests_record(layout: str, request: pytest.FixtureRequest) -> None:
    demo: LocalDemo = request.getfixturevalue(layout)
    with Inspector(demo.opener()) as insp:
        insp.kms.remember(DEMO_KMS)
        for full in insp.listing(demo.uri).full_backups:
            backup = insp.full_backup(demo.uri, full.subdir)
            layers = [backup.layer(), *insp.incrementals(demo.uri, full.subdir)]
            files = read_encryption_files(backup.storage, backup.top_level_files)
            got = [insp.sizes(demo.uri, full.subdir, None if layer.is_full else layer.path) for layer in layers]
            assert all(isinstance(s, LayerSizes) for s in got)
            with unlocked_key(files, kms_uris=[DEMO_KMS]) as key:
                for layer, sizes in zip(layers, got):
                    contents = read_contents(layer, key)
                    assert isinstance(sizes, LayerSizes)
                    assert sizes.data_files == len({f.path for f in contents.files}) > 0
                    assert sizes.data_size == sum(f.entry_counts.data_size for f in contents.files)
                    assert sizes.rows == sum(f.entry_counts.rows for f in contents.files)
                    assert sizes.manifest.startswith("BACKUP_METADATA" if layout == "slim_demo" else "BACKUP_MANIFEST")
            assert [(s.data_size, s.rows) for s in got if isinstance(s, LayerSizes)] == _show_backup_sizes(demo, full.subdir)


def test_sizes_unknown_until_a_known_kms_uri_unlocks(local_demo: LocalDemo) -> None:
    with Inspector(local_demo.opener()) as insp:
        latest = insp.listing(local_demo.uri).latest or ""
        unknown = insp.sizes(local_demo.uri, latest)
        assert isinstance(unknown, SizeUnknown) and unknown.reason.startswith(UNKNOWN_UNTIL_UNLOCKED)
        insp.kms.remember(OTHER_KMS)  # a key the backup does not hold: still unknown
        assert isinstance(insp.sizes(local_demo.uri, latest), SizeUnknown)
        insp.kms.remember(DEMO_KMS)
        assert isinstance(insp.sizes(local_demo.uri, latest), LayerSizes)  # not cached as unknown


def test_one_storage_per_collection_cached_and_closed(local_demo: LocalDemo) -> None:
    opened: list[str] = []
    base = local_demo.opener()

    def opener(uri: str):  # type: ignore[no-untyped-def]
        opened.append(uri)
        return base(uri)

    insp = Inspector(opener)
    insp.kms.remember(DEMO_KMS)
    coll = insp.collection(local_demo.uri)
    latest = insp.listing(local_demo.uri).latest or ""
    calls = coll.list_calls
    for _ in range(3):  # what the browser and details ask on each highlight
        insp.listing(local_demo.uri)
        insp.incrementals(local_demo.uri, latest)
        insp.key_files(local_demo.uri, latest)
        insp.sizes(local_demo.uri, latest)
    assert coll.list_calls == calls + 3  # the backup directory, incrementals/ and the index: once each
    assert opened == [local_demo.uri] and insp.open_collections == [local_demo.uri]
    assert insp.cached_subdirs(local_demo.uri) == insp.subdirs(local_demo.uri)
    insp.close()
    assert insp.open_collections == [] and insp.cached_subdirs(local_demo.uri) is None


def test_listings_expire_after_max_age(local_demo: LocalDemo) -> None:
    now = [0.0]
    with Inspector(local_demo.opener(), max_age=30.0, clock=lambda: now[0]) as insp:
        coll = insp.collection(local_demo.uri)
        insp.listing(local_demo.uri)
        calls = coll.list_calls
        now[0] = 29.0
        insp.listing(local_demo.uri)
        assert coll.list_calls == calls and insp.cached_subdirs(local_demo.uri) is not None
        now[0] = 31.0
        assert insp.cached_subdirs(local_demo.uri) is None
        insp.listing(local_demo.uri)
        assert coll.list_calls > calls  # listed again, on the same storage
        assert insp.collection(local_demo.uri) is coll


def test_kms_memory_remembers_statements_and_completes_without_secrets() -> None:
    aws = "aws:///k?AWS_ACCESS_KEY_ID=a&AWS_SECRET_ACCESS_KEY=s&REGION=r"
    statements = {
        f"SHOW BACKUP LATEST IN 'nodelocal://self/d' WITH KMS = '{DEMO_KMS}'": [DEMO_KMS],
        f"SHOW BACKUP KEYS FROM LATEST IN 'nodelocal://self/d' WITH KMS = ('{DEMO_KMS}', '{aws}')": [DEMO_KMS, aws],
        f"ALTER BACKUP LATEST IN 'nodelocal://self/d' ADD NEW_KMS = '{OTHER_KMS}' WITH OLD_KMS = '{DEMO_KMS}'":
            [OTHER_KMS, DEMO_KMS],
        f"SHOW KMS RETIREMENT '{DEMO_KMS}' IN 'nodelocal://self/d' WITH KMS = '{OTHER_KMS}'": [DEMO_KMS, OTHER_KMS],
        "SHOW BACKUPS IN 'nodelocal://self/d'": [],
    }
    memory = KMSMemory()
    for sql, uris in statements.items():
        stmt = parse(sql)[0]
        assert statement_kms_uris(stmt) == uris, sql
        memory.remember_statement(stmt)
    assert memory.uris() == [DEMO_KMS, aws, OTHER_KMS]
    assert memory.completion() == [DEMO_KMS, OTHER_KMS]  # the one with a secret is not offered
