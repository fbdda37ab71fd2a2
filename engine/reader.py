"""Reading one backup layer's contents: manifest, file list, descriptors, data-file checks.

Decryption is bound to a data key here, so engine/formats stays free of key handling and the
plaintext key never leaves the AES-GCM calls.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass

from google.protobuf.message import DecodeError

from engine.collection import BackupLayer
from engine.encryption import DataKey
from engine.errors import FormatError, RewrapError
from engine.formats import encrypted_file
from engine.formats.buffers import new_buffer
from engine.formats.backup_ssts import DESCRIPTORSLIST_SST, FILELIST_SST, decode_descriptorslist, decode_filelist
from engine.formats.manifest import (
    BACKUP_METADATA,
    CHECKSUM_SUFFIX,
    BackupManifest,
    decode_manifest,
)
from engine.formats.proto import backup_pb2, descriptors_pb2
from engine.formats.sst_pipeline import CheckOptions, check_pipelined, check_plaintext, check_serially
from engine.rewrap.events import (
    CancelToken,
    Cancelled,
    CheckFinished,
    CheckProgress,
    CheckStarted,
    ProgressSink,
    ignore,
)
from engine.storage import NotFound


def decryptor(key: DataKey | None, name: str) -> Callable[[bytes], bytes | bytearray] | None:
    if key is None:
        return None
    return lambda data: encrypted_file.decrypt(key.material, data, name=name)


def read_file(layer: BackupLayer, name: str, key: DataKey | None) -> bytes | bytearray:
    """A file of the layer, decrypted when the backup is encrypted."""
    data = layer.storage.read(name)
    if key is not None:
        return encrypted_file.decrypt(key.material, data, name=f"{layer.display}/{name}")
    if encrypted_file.appears_encrypted(data):
        raise FormatError(f"{layer.display}/{name}: file appears encrypted")
    return data


def read_manifest(layer: BackupLayer, key: DataKey | None) -> BackupManifest:
    """The layer's manifest, checksum-checked when a -CHECKSUM file exists."""
    name = layer.manifest_name
    shown = f"{layer.display}/{name}"
    stored = layer.storage.read(name)
    try:
        checksum = layer.storage.read(name + CHECKSUM_SUFFIX)
    except NotFound:
        checksum = None
    return decode_manifest(stored, decrypt=decryptor(key, shown), checksum=checksum, name=shown)


@dataclass
class LayerContents:
    """What SHOW BACKUP needs of one layer: its manifest and the real file/descriptor lists."""

    layer: BackupLayer
    manifest: BackupManifest
    files: list[backup_pb2.BackupManifest.File]
    descriptors: list[descriptors_pb2.Descriptor]


def read_contents(layer: BackupLayer, key: DataKey | None) -> LayerContents:
    """The layer's manifest with its real file and descriptor lists.

    A slim manifest (BACKUP_METADATA with has_external_manifest_ssts, the only manifest 26.3
    writes) keeps placeholders in its own lists; the files come from filelist.sst and the
    descriptors from descriptorslist.sst, both encrypted like data files.
    """
    manifest = read_manifest(layer, key)
    if layer.manifest_name == BACKUP_METADATA and manifest.has_external_manifest_ssts:
        files = [
            _parse(backup_pb2.BackupManifest.File(), raw, f"{layer.display}/{FILELIST_SST} entry {path!r}")
            for _, path, raw in decode_filelist(_read_list(layer, FILELIST_SST, key), name=f"{layer.display}/{FILELIST_SST}")
        ]
        return LayerContents(layer, manifest, files, read_descriptors(layer, key))
    return LayerContents(layer, manifest, list(manifest.files), list(manifest.descriptors))


def read_descriptors(layer: BackupLayer, key: DataKey | None) -> list[descriptors_pb2.Descriptor]:
    """Descriptors of a slim manifest's descriptorslist.sst as of the backup's end time.

    Entries come id ascending, newest revision first (desc_sst.go); the first entry of an id is
    the one in effect at the end time, and an empty value there means the descriptor was dropped,
    so it is not listed, as BACKUP_MANIFEST's `descriptors` would not list it.
    """
    name = f"{layer.display}/{DESCRIPTORSLIST_SST}"
    out = []
    last_id = None
    for entry in decode_descriptorslist(_read_list(layer, DESCRIPTORSLIST_SST, key), name=name):
        if entry.id == last_id:
            continue  # an older revision
        last_id = entry.id
        if entry.descriptor:
            out.append(_parse(descriptors_pb2.Descriptor(), entry.descriptor, f"{name} descriptor {entry.id}"))
    return out


def _read_list(layer: BackupLayer, name: str, key: DataKey | None) -> bytes | bytearray:
    try:
        return read_file(layer, name, key)
    except NotFound:
        raise FormatError(
            f"{layer.display}/{name}: missing, but {layer.display}/{BACKUP_METADATA} says its "
            "files and descriptors are kept there (has_external_manifest_ssts)"
        ) from None


def _parse(message, raw: bytes, where: str):  # type: ignore[no-untyped-def]
    try:
        message.ParseFromString(raw)
    except DecodeError as e:
        raise FormatError(f"{where}: not a valid protobuf message ({e})") from None
    return message


@dataclass
class FileProblem:
    path: str
    problem: str


_PROGRESS_EVERY = 0.25  # seconds between CheckProgress events within a file
# Encrypted files up to this size are checked two at a time (one on the pool thread, each in
# its own buffer) when the options pipeline: a pipeline inside one small file barely overlaps
# (a few 1 MiB batches, per-file set-up), while two whole files overlap well, since AES-GCM
# and the native scan release the GIL. The second buffer (at most this size) is the only
# memory it costs. tests/bench/bench_check_columnar.py --file-mib 4 measures it.
PAIR_MAX_BYTES = 8 << 20


def check_chain_files(
    chain: Sequence[LayerContents],
    key: DataKey | None,
    *,
    backup: str = "",
    progress: ProgressSink = ignore,
    cancel: CancelToken | None = None,
    options: CheckOptions = CheckOptions(),
) -> list[FileProblem]:
    """Open every data file of the layers: present, decrypts chunk by chunk (every GCM tag), and
    parses as an SST with valid block checksums and key order.

    One file's plaintext is held at a time, decrypted ~1 MiB of ciphertext at a time into one
    buffer the size of the largest file, reused for every file (the SST check needs the footer
    and index first; a reused buffer is not faulted in again), never the whole layer; when the
    options pipeline, two neighbouring files of at most PAIR_MAX_BYTES are checked at once, the
    second in a buffer of its own (at most PAIR_MAX_BYTES), their results and progress still
    reported in file order on this thread.
    Emits CheckStarted / CheckProgress (stored bytes and files) / CheckFinished on `progress`;
    `cancel` is honoured between 1 MiB batches and between files, and every 0.1 s while a
    pipelined file's checks finish (Cancelled, a RewrapError).
    `options` (engine.formats.sst_pipeline.CheckOptions): a v2 file's data blocks checked on a
    second thread while its later chunks are still being decrypted, the native block scanner
    and its worker threads; every choice gives the same results."""
    started = time.monotonic()
    problems: list[FileProblem] = []
    todo: list[tuple[BackupLayer, str, str, int]] = []  # layer, path, shown, stored size
    for contents in chain:
        layer = contents.layer
        for path in sorted({f.path for f in contents.files}):
            shown = f"{layer.display}/{path}"
            try:
                todo.append((layer, path, shown, layer.storage.size(path)))
            except NotFound:
                problems.append(FileProblem(shown, "missing"))
            except RewrapError as e:
                problems.append(FileProblem(shown, str(e)))
    total = sum(t[3] for t in todo)
    progress(CheckStarted(backup, len(todo), total))
    done_bytes = files_done = 0
    last = [started]

    def report(now_bytes: int, shown: str, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - last[0] >= _PROGRESS_EVERY:
            last[0] = now
            progress(CheckProgress(backup, now_bytes, total, files_done, len(todo), shown, now - started))

    # One plaintext buffer for every file: a plaintext is never larger than its stored file.
    scratch = new_buffer(max((t[3] for t in todo), default=0)) if key is not None else bytearray()
    pipelines = options.pipelines and key is not None
    pool = ThreadPoolExecutor(1, thread_name_prefix="check-files") if pipelines else None
    small = [t[3] for t in todo if t[3] <= PAIR_MAX_BYTES]
    partner_scratch = new_buffer(max(small)) if pipelines and len(small) > 1 else None

    def problem_of(todo_item: tuple[BackupLayer, str, str, int], base: int, reporting: Callable[..., None],
                   buffer: bytearray, file_pool: Executor | None) -> FileProblem | None:
        layer, path, shown, size = todo_item
        try:
            _check_one(layer, path, shown, size, key, base, reporting, cancel, buffer, file_pool, options)
        except NotFound:
            return FileProblem(shown, "missing")
        except Cancelled:
            raise
        except RewrapError as e:
            return FileProblem(shown, str(e))
        return None

    partner_read = [0]  # stored bytes the partner file has decrypted so far

    def partner_reporting(now_bytes: int, shown: str, force: bool = False) -> None:
        """A partner file's progress, kept for the calling thread to report (events stay there)."""
        partner_read[0] = now_bytes

    def record(item: tuple[BackupLayer, str, str, int], problem: FileProblem | None) -> None:
        nonlocal done_bytes, files_done
        if problem is not None:
            problems.append(problem)
        done_bytes += item[3]
        files_done += 1
        report(done_bytes, item[2], force=True)

    try:
        i = 0
        while i < len(todo):
            if cancel is not None:
                cancel.check()
            item = todo[i]
            pair = (
                todo[i + 1]
                if partner_scratch is not None and i + 1 < len(todo)
                and item[3] <= PAIR_MAX_BYTES and todo[i + 1][3] <= PAIR_MAX_BYTES
                else None
            )
            if pair is None:
                record(item, problem_of(item, done_bytes, report, scratch, pool))
                i += 1
                continue
            assert pool is not None and partner_scratch is not None
            partner_read[0] = 0
            partner = pool.submit(problem_of, pair, 0, partner_reporting, partner_scratch, None)
            try:
                found = problem_of(item, done_bytes, report, scratch, None)
            except BaseException:
                partner.exception()  # its buffer and thread are free before anything else
                raise
            record(item, found)
            while True:  # the partner's progress, as a serial check of it would report it
                try:
                    partner.exception(timeout=max(_PROGRESS_EVERY, 0.05))
                    break
                except TimeoutError:
                    report(done_bytes + partner_read[0], pair[2])
            report(done_bytes + pair[3], pair[2])
            record(pair, partner.result())
            i += 2
    except Cancelled:
        progress(CheckFinished(backup, files_done, len(todo), done_bytes, len(problems),
                               time.monotonic() - started, cancelled=True))
        raise Cancelled(
            f"CHECK_FILES cancelled after {files_done} of {len(todo)} data files "
            f"({done_bytes} of {total} bytes checked); nothing was written"
        ) from None
    finally:
        if pool is not None:
            pool.shutdown()
    progress(CheckFinished(backup, files_done, len(todo), done_bytes, len(problems),
                           time.monotonic() - started))
    return problems


def _check_one(
    layer: BackupLayer,
    path: str,
    shown: str,
    size: int,
    key: DataKey | None,
    base: int,
    report: Callable[..., None],
    cancel: CancelToken | None,
    scratch: bytearray,
    pool: Executor | None,
    options: CheckOptions,
) -> None:
    """Check one file, decrypting it into `scratch` (at least its stored size); with `pool`,
    pipelined (engine.formats.sst_pipeline)."""
    if key is None:
        check_plaintext(layer.storage.read(path), shown, options)
        return
    reader = encrypted_file.DecryptingReader(
        lambda off, n: layer.storage.read_range(path, off, n), size, key.material, name=shown
    )

    def on_batch(read: int) -> None:
        if cancel is not None:
            cancel.check()
        report(base + read, shown)

    if pool is None:
        check_serially(reader, scratch, on_batch, shown, options)
    else:
        check_pipelined(reader, scratch, on_batch, shown, pool, options)
