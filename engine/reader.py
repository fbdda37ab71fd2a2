"""Reading one backup layer's contents: manifest, file list, descriptors, data-file checks.

Decryption is bound to a data key here, so engine/formats stays free of key handling and the
plaintext key never leaves the AES-GCM calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from google.protobuf.message import DecodeError

from engine.collection import BackupLayer
from engine.encryption import DataKey
from engine.errors import FormatError, RewrapError
from engine.formats import encrypted_file
from engine.formats.backup_ssts import DESCRIPTORSLIST_SST, FILELIST_SST, decode_descriptorslist, decode_filelist
from engine.formats.manifest import (
    BACKUP_METADATA,
    CHECKSUM_SUFFIX,
    BackupManifest,
    decode_manifest,
)
from engine.formats.proto import backup_pb2, descriptors_pb2
from engine.formats.sst import check_sst
from engine.storage import NotFound


def decryptor(key: DataKey | None, name: str) -> Callable[[bytes], bytes] | None:
    if key is None:
        return None
    return lambda data: encrypted_file.decrypt(key.material, data, name=name)


def read_file(layer: BackupLayer, name: str, key: DataKey | None) -> bytes:
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
    files: list  # BackupManifest.File messages
    descriptors: list  # Descriptor messages


def read_contents(layer: BackupLayer, key: DataKey | None) -> LayerContents:
    manifest = read_manifest(layer, key)
    if layer.manifest_name == BACKUP_METADATA and manifest.has_external_manifest_ssts:
        files = []
        for _, path, raw in decode_filelist(read_file(layer, FILELIST_SST, key)):
            files.append(_parse(backup_pb2.BackupManifest.File(), raw, f"{layer.display}/{FILELIST_SST} entry {path!r}"))
        descriptors = []
        for entry in decode_descriptorslist(read_file(layer, DESCRIPTORSLIST_SST, key)):
            if entry.wall_time or entry.logical or not entry.descriptor:
                continue  # revisions (descriptor_changes) and deletions; SHOW BACKUP lists Descriptors
            where = f"{layer.display}/{DESCRIPTORSLIST_SST} descriptor {entry.id}"
            descriptors.append(_parse(descriptors_pb2.Descriptor(), entry.descriptor, where))
        return LayerContents(layer, manifest, files, descriptors)
    return LayerContents(layer, manifest, list(manifest.files), list(manifest.descriptors))


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


def check_layer_files(contents: LayerContents, key: DataKey | None) -> list[FileProblem]:
    """Open every data file of the layer: present, decrypts chunk by chunk (every GCM tag), and
    parses as an SST with valid block checksums. One file's plaintext is held at a time (the SST
    check needs the footer and index), never the whole layer."""
    problems: list[FileProblem] = []
    layer = contents.layer
    for path in sorted({f.path for f in contents.files}):
        shown = f"{layer.display}/{path}"
        try:
            size = layer.storage.size(path)
            if key is not None:
                reader = encrypted_file.DecryptingReader(
                    lambda off, n, p=path: layer.storage.read_range(p, off, n),
                    size,
                    key.material,
                    name=shown,
                )
                plain = bytearray()
                for chunk in reader.chunks():
                    plain += chunk
                data = bytes(plain)
            else:
                data = layer.storage.read(path)
            check_sst(data, name=shown)
        except NotFound:
            problems.append(FileProblem(shown, "missing"))
        except RewrapError as e:
            problems.append(FileProblem(shown, str(e)))
    return problems
