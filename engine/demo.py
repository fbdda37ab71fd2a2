"""The demo collection: real CockroachDB layout and bytes, small enough to write in a blink.

`write_demo(dir)` writes what `BACKUP DATABASE movr INTO 'nodelocal://1/demo' WITH kms = ...`
followed by hourly `BACKUP ... INTO LATEST` would leave behind: dated full backup directories with
ENCRYPTION-INFO, encrypted Pebble data SSTs holding MVCC rows, incrementals under `incrementals/`,
`metadata/latest/LATEST-<hex>` files, and per backup the manifest files of the chosen CockroachDB
release (engine/formats/releases.py): encrypted gzip'd BACKUP_MANIFEST + checksum, and/or the slim
BACKUP_METADATA + checksum with its encrypted filelist.sst and descriptorslist.sst; from 25.2 the
`-<start>` incremental suffix, from 25.4 the backup index under `metadata/index/`. Every full
backup has its own random data key, wrapped by the given KMS.

The index files get CockroachDB's names; their content (a BackupIndexMetadata proto) is left
empty, since its field numbers were not looked up: CockroachDB and rewrap find backups from the
names alone, and CockroachDB opens the content only for SHOW BACKUPS' revision start times.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from engine.demo_location import DEFAULT_DEMO_KMS as DEFAULT_DEMO_KMS
from engine.demo_location import DEMO_COLLECTION as DEMO_COLLECTION
from engine.demo_location import DEMO_DIR_NAME as DEMO_DIR_NAME
from engine.demo_location import demo_collection_dir as demo_collection_dir
from engine.demo_location import demo_written
from engine.errors import FormatError, RewrapError
from engine.formats import backup_index, encrypted_file
from engine.formats.backup_ssts import (
    DESCRIPTORSLIST_SST,
    FILELIST_SST,
    encode_descriptorslist,
    encode_filelist,
)
from engine.formats.encryption_info import ENCRYPTION_INFO, EncryptionInfo, key_id_hash
from engine.formats.latest_name import (
    LATEST_DIR,
    backup_subdir_for,
    go_time_string,
    incremental_subdir_for,
    latest_file_name,
)
from engine.formats.manifest import (
    BACKUP_MANIFEST,
    BACKUP_METADATA,
    CHECKSUM_SUFFIX,
    Descriptor,
    build_manifest,
    database_descriptor,
    encode_manifest,
    manifest_file,
    schema_descriptor,
    slim_manifest,
    table_descriptor,
)
from engine.formats.mvcc import TAG_BYTES, encode_mvcc_key, encode_value, table_row_key
from engine.formats.releases import NEWEST_RELEASED, Release, release
from engine.formats.sst_writers import can_write, write_table
from engine.kms import KMSEnv, open_kms
from engine.storage import ExternalStorage, StorageSettings
from engine.storage.local import LocalStorage
from syntax.uri import redact_uri

"""Where the console opens the demo when nothing else is configured."""
DEMO_START = datetime(2026, 11, 24, 2, 0, 12, 340000, tzinfo=UTC)
CRDB_EPOCH = datetime(2015, 1, 1, tzinfo=UTC)  # builtins.GenerateUniqueInt's epoch

DATABASE_ID, DATABASE = 104, "movr"
PUBLIC_SCHEMA_ID = 105  # since v22.1 every database has its own `public` schema descriptor


@dataclass(frozen=True)
class DemoTable:
    id: int
    name: str
    rows: int  # rows in the first full backup
    row_bytes: int  # approximate payload size of one row


TABLES = (
    DemoTable(106, "users", 500, 90),
    DemoTable(107, "vehicles", 300, 140),
    DemoTable(108, "rides", 2000, 180),
    DemoTable(109, "promo_codes", 120, 220),
)


def unique_int(when: datetime, node_id: int = 1) -> int:
    """GenerateUniqueInt: 10µs ticks since 2015-01-01, shifted left 15 bits, | node id."""
    ticks = int((when - CRDB_EPOCH).total_seconds() * 100_000)
    return (ticks << 15) | node_id


def demo_release(crdb_version: str | Release | None = None) -> Release:
    """The release whose layout the demo writes: the one asked for (a clear error listing the
    choices for an unknown one), else the newest released one. A Release passed in is used as
    it is (tests combine a layout with a table format)."""
    if crdb_version is None:
        return NEWEST_RELEASED
    chosen = crdb_version if isinstance(crdb_version, Release) else release(crdb_version)
    if not can_write(chosen.table_format):
        raise FormatError(f"--crdb-version {crdb_version}: cannot write {chosen.table_format} tables")
    return chosen


def _descriptor_id(d: Descriptor) -> int:
    which = d.WhichOneof("union")
    assert which is not None  # every demo descriptor has its union set
    ident: int = getattr(d, which).id
    return ident


class _DemoWriter:
    def __init__(
        self,
        storage: ExternalStorage,
        kms_uri: str,
        rng: random.Random,
        kms_env: KMSEnv | None,
        crdb: Release,
        slim_rng: random.Random | None = None,
    ) -> None:
        self.crdb = crdb
        # IVs of the slim manifest's files come from their own stream, so adding them leaves every
        # other byte of a seeded demo as it was.
        self.slim_rng = slim_rng or rng
        self.storage = storage
        self.kms_uri = kms_uri
        self.kms_env = kms_env
        self.rng = rng
        self.files_written = 0
        self.next_pk = {t.id: t.rows + 1 for t in TABLES}
        self.cluster_id = rng.randbytes(16)

    def put(self, key: str, data: bytes) -> None:
        self.storage.write_new(key, data)
        self.files_written += 1

    def encrypter(self, data_key: bytes, rng: random.Random | None = None) -> Callable[[bytes], bytes]:
        source = rng or self.rng
        return lambda plain: encrypted_file.encrypt(data_key, plain, iv=source.randbytes(12))

    def layer(
        self,
        path: str,
        start: datetime | None,
        end: datetime,
        data_key: bytes,
        changes: Mapping[int, Sequence[int]],
    ) -> None:
        """One backup directory: a data SST per table, then the manifest and its checksum."""
        encrypt = self.encrypter(data_key)
        wall = int(end.timestamp() * 1e9)
        files = []
        for n, table in enumerate(TABLES):
            pks = changes[table.id]
            entries = []
            for pk in pks:
                key = table_row_key(table.id, 1, pk)
                payload = self.rng.randbytes(table.row_bytes // 2).hex().encode()
                entries.append((encode_mvcc_key(key, wall), encode_value(key, payload, TAG_BYTES)))
            sst = write_table(entries, self.crdb.table_format, release=self.crdb.version, writer="ingestion")
            name = f"data/{unique_int(end + timedelta(microseconds=10 * n))}.sst"
            self.put(f"{path}/{name}", encrypt(sst))
            files.append(
                manifest_file(
                    name,
                    table.id,
                    rows=len(entries),
                    data_size=sum(len(k) + len(v) for k, v in entries),
                    backing_file_size=len(sst),
                )
            )
        major, minor = (int(x) for x in self.crdb.version.split("."))
        manifest = build_manifest(
            start=start,
            end=end,
            descriptors=descriptors(),
            files=files,
            cluster=False,
            cluster_id=self.cluster_id,
            backup_id=self.rng.randbytes(16),
            build_tag=f"v{self.crdb.version}.0",
            cluster_version=(major, minor),
        )
        fmt = self.crdb.table_format
        if BACKUP_METADATA in self.crdb.manifests:
            encrypt_slim = self.encrypter(data_key, self.slim_rng)
            # The external lists first, then the slim manifest that points at them.
            filelist = encode_filelist(
                [(f.span.key, f.path, f.SerializeToString(deterministic=True)) for f in manifest.files],
                table_format=fmt,
                release=self.crdb.version,
            )
            descs = encode_descriptorslist(
                [(_descriptor_id(d), d.SerializeToString(deterministic=True)) for d in manifest.descriptors],
                table_format=fmt,
                release=self.crdb.version,
            )
            self.put(f"{path}/{FILELIST_SST}", encrypt_slim(filelist))
            self.put(f"{path}/{DESCRIPTORSLIST_SST}", encrypt_slim(descs))
            stored, checksum = encode_manifest(slim_manifest(manifest), encrypt=encrypt_slim)
            self.put(f"{path}/{BACKUP_METADATA}", stored)
            self.put(f"{path}/{BACKUP_METADATA}{CHECKSUM_SUFFIX}", checksum)
        if BACKUP_MANIFEST in self.crdb.manifests:
            stored, checksum = encode_manifest(manifest, encrypt=encrypt)
            self.put(f"{path}/{BACKUP_MANIFEST}", stored)
            self.put(f"{path}/{BACKUP_MANIFEST}{CHECKSUM_SUFFIX}", checksum)

    def index(self, subdir: str, start: datetime | None, end: datetime) -> None:
        """The backup's file in metadata/index/ (25.4+), written once the backup is complete."""
        if self.crdb.backup_index:
            name = backup_index.index_file_name(start, end)
            self.put(f"{backup_index.chain_dir(subdir)}/{name}", b"")

    def chain(self, full_end: datetime, incrementals: int) -> str:
        subdir = backup_subdir_for(full_end)
        full = subdir.strip("/")
        data_key = self.rng.randbytes(32)
        with open_kms(self.kms_uri, env=self.kms_env) as kms:
            wrapped = kms.encrypt(data_key)
            info = EncryptionInfo(
                encrypted_data_keys={key_id_hash(i): wrapped for i in kms.write_key_ids}
            )
        job_id = unique_int(full_end - timedelta(seconds=30))
        self.put(f"{full}/BACKUP-LOCK-{job_id}", b"lock")
        self.put(f"{full}/{ENCRYPTION_INFO}", info.to_bytes())
        self.layer(full, None, full_end, data_key, {t.id: range(1, t.rows + 1) for t in TABLES})
        self.index(subdir, None, full_end)
        # metadata/latest: written when the full backup completes; newest = smallest name.
        done = full_end + timedelta(seconds=1, microseconds=self.rng.randrange(10**6))
        monotonic = 50 + self.rng.random() * 10
        self.put(f"{LATEST_DIR}/{latest_file_name(go_time_string(done, monotonic))}", subdir.encode())
        start = full_end
        for i in range(1, incrementals + 1):
            end = full_end + timedelta(hours=i, seconds=self.rng.randrange(60), microseconds=self.rng.randrange(1, 99) * 10_000)
            changes: dict[int, list[int]] = {}
            for t in TABLES:
                updated = sorted(self.rng.sample(range(1, t.rows + 1), max(1, t.rows // 50)))
                new = list(range(self.next_pk[t.id], self.next_pk[t.id] + t.rows // 100 + 1))
                self.next_pk[t.id] += len(new)
                changes[t.id] = updated + new
            if self.crdb.incremental_suffix:
                inc = f"incrementals/{full}{backup_index.incremental_dir(start, end)}"
            else:
                inc = f"incrementals/{full}{incremental_subdir_for(end)}"
            self.layer(inc, start, end, data_key, changes)
            self.index(subdir, start, end)
            start = end
        return subdir


def descriptors() -> list[Descriptor]:
    modified = DEMO_START - timedelta(days=30)
    out = [
        database_descriptor(DATABASE_ID, DATABASE, modified=modified),
        schema_descriptor(PUBLIC_SCHEMA_ID, DATABASE_ID, "public", modified=modified),
    ]
    out += [
        table_descriptor(t.id, DATABASE_ID, t.name, PUBLIC_SCHEMA_ID, modified=modified)
        for t in TABLES
    ]
    return out


def write_demo(
    directory: Path,
    *,
    kms_uri: str = DEFAULT_DEMO_KMS,
    seed: int | None = None,
    full_backups: int = 3,
    incrementals: int = 3,
    crdb_version: str | Release | None = None,
) -> str:
    """Write the demo collection into a local `directory` (which must be absent or empty).

    Anything that is not an empty or absent directory we may create (a file, a path under
    /proc, a NUL byte) is a clear error and nothing is written.
    """
    crdb = demo_release(crdb_version)  # an unknown or unwritable release: nothing created
    directory = Path(directory)
    try:
        if directory.is_symlink() or directory.exists():
            if not directory.is_dir():
                raise RewrapError(
                    f"{directory}: exists and is not a directory; rewrap demo writes into a new "
                    "or empty directory"
                )
            if any(directory.iterdir()):
                raise RewrapError(f"{directory}: not empty; rewrap demo writes into a new directory")
        directory.mkdir(parents=True, exist_ok=True)
        root = directory.resolve()
    except ValueError as e:  # e.g. an embedded NUL byte
        raise RewrapError(f"{str(directory)!r}: not a usable path ({e})") from None
    except OSError as e:
        raise RewrapError(
            f"{directory}: cannot create the demo directory there: {e.strerror or e}"
        ) from None
    storage = LocalStorage(root, f"file://{root}")
    return write_demo_collection(
        storage,
        kms_uri=kms_uri,
        seed=seed,
        full_backups=full_backups,
        incrementals=incrementals,
        crdb_version=crdb,
    )


def write_demo_collection(
    storage: ExternalStorage,
    *,
    kms_uri: str = DEFAULT_DEMO_KMS,
    seed: int | None = None,
    full_backups: int = 3,
    incrementals: int = 3,
    kms_env: KMSEnv | None = None,
    crdb_version: str | Release | None = None,
) -> str:
    """Write the demo collection into any storage (local, or a bucket in the cloud tests), in
    the layout of `crdb_version` (see `demo_release`).

    Returns a one-line summary. With `seed`, every byte is reproducible.
    """
    crdb = demo_release(crdb_version)
    rng = random.Random(seed) if seed is not None else random.SystemRandom()
    slim_rng = random.Random(f"{seed}/slim") if seed is not None else rng
    writer = _DemoWriter(storage, kms_uri, rng, kms_env, crdb, slim_rng)
    subdirs = [
        writer.chain(DEMO_START + timedelta(days=i, minutes=rng.randrange(30)), incrementals)
        for i in range(full_backups)
    ]
    return (
        f"wrote {full_backups} full backups with {incrementals} incrementals each "
        f"({writer.files_written} files) to {storage.display_uri}; LATEST is {subdirs[-1]}; "
        f"KMS {redact_uri(kms_uri)}; CockroachDB {crdb.version} layout "
        f"({crdb.table_format}, {' + '.join(crdb.manifests)})"
    )


def ensure_demo_collection(storage: StorageSettings) -> Path:
    """The demo collection under the external-IO dir, written on first use."""
    path = demo_collection_dir(storage)
    if not demo_written(path):
        write_demo(path, kms_uri=DEFAULT_DEMO_KMS)
    return path
