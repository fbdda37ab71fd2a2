"""CockroachDB's encrypted backup file format, v1 and v2 (spec backup-format.md §3).

Layout (pkg/ccl/storageccl/encryption.go): a 20-byte header `b"encrypt"` + version byte + 12-byte
IV, then AES-GCM with no associated data.

* v2 (what CockroachDB writes): the plaintext is cut into 64 KiB chunks, each sealed on its own
  with nonce IV[0:4] || BE64(BE64(IV[4:12]) + chunk index mod 2^64). The writer always seals a
  final short chunk (possibly empty), so a file cut at a chunk boundary is detectable: every
  valid file ends in a sealed chunk of fewer than 65536 plaintext bytes. Chunks can be opened
  independently, which gives random access.
* v1 (legacy, read only in CockroachDB): one GCM message over the whole plaintext, nonce = IV.

Every failure of the data (not an encrypted file, unknown version, truncation, wrong key, a
flipped bit) is a `DecryptError` whose message names the file and what to check.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import cast

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from engine.errors import FormatError
from engine.formats.buffers import new_buffer

PREAMBLE = b"encrypt"
VERSION_V1 = 1
VERSION_V2 = 2
NONCE_SIZE = 12
HEADER_SIZE = len(PREAMBLE) + 1 + NONCE_SIZE  # 20
CHUNK_SIZE = 64 << 10  # 65536
TAG_SIZE = 16
SEALED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE  # 65552

_U64 = (1 << 64) - 1
# chunks() fetches this many sealed chunks (~1 MiB) per read_range call: one storage round trip
# per MiB instead of per 64 KiB, still constant memory.
_READ_BATCH_CHUNKS = 16


class DecryptError(FormatError):
    """An encrypted file that cannot be opened: wrong key, damage, truncation or not encrypted."""


def appears_encrypted(data: bytes) -> bool:
    """True if the bytes start with the cleartext preamble (CockroachDB's AppearsEncrypted)."""
    return bytes(data[: len(PREAMBLE)]) == PREAMBLE


def chunk_nonce(iv: bytes, index: int) -> bytes:
    """The nonce of v2 chunk `index`: the IV's low 8 bytes as a big-endian counter, wrapping."""
    counter = (int.from_bytes(iv[4:NONCE_SIZE], "big") + index) & _U64
    return bytes(iv[:4]) + counter.to_bytes(8, "big")


def plaintext_size(ciphertext_size: int) -> int:
    """Plaintext length of a well-formed v2 file of `ciphertext_size` bytes (Go's Stat())."""
    body = ciphertext_size - HEADER_SIZE
    return body - TAG_SIZE * (body // SEALED_CHUNK_SIZE + 1)


def ciphertext_size(plaintext_size: int) -> int:
    """Stored length of a v2 file holding `plaintext_size` bytes (always one short final chunk)."""
    return HEADER_SIZE + plaintext_size + TAG_SIZE * (plaintext_size // CHUNK_SIZE + 1)


def _aead(key: bytes | bytearray, name: str) -> AESGCM:
    try:
        return AESGCM(key)  # accepts a bytearray as is: no immutable copy of the key
    except (ValueError, TypeError):
        raise DecryptError(
            f"{name}: invalid key length {len(key)} bytes (expected 16, 24 or 32)"
        ) from None


def _parse_header(header: bytes, size: int, name: str) -> tuple[int, bytes]:
    """(version, iv) from the first bytes of a file of `size` bytes; checks the v2 length."""
    if not appears_encrypted(header):
        raise DecryptError(f"{name}: not an encrypted file (no 'encrypt' preamble)")
    if size < HEADER_SIZE or len(header) < HEADER_SIZE:
        raise DecryptError(f"{name}: file appears truncated (incomplete encryption header)")
    version = header[len(PREAMBLE)]
    if version not in (VERSION_V1, VERSION_V2):
        raise DecryptError(f"{name}: unsupported encryption version {version}")
    body = size - HEADER_SIZE
    # v1 needs at least a tag; v2's last sealed chunk is a tag plus < 64 KiB, so a body that is
    # a multiple of the sealed chunk size (or leaves less than a tag) lost its final chunk.
    tail = body if version == VERSION_V1 else body % SEALED_CHUNK_SIZE
    if tail < TAG_SIZE:
        raise DecryptError(f"{name}: file appears truncated")
    return version, bytes(header[len(PREAMBLE) + 1 : HEADER_SIZE])


def _failed(name: str, chunk: int | None) -> DecryptError:
    where = "" if chunk is None else f" (chunk {chunk})"
    return DecryptError(f"{name}: failed to decrypt: wrong key or corrupted data{where}")


def _seal_all(aead: AESGCM, iv: bytes, plaintext: bytes) -> list[bytes]:
    view = memoryview(plaintext)
    count = len(view) // CHUNK_SIZE + 1
    return [
        aead.encrypt(chunk_nonce(iv, i), view[i * CHUNK_SIZE : (i + 1) * CHUNK_SIZE], None)
        for i in range(count)
    ]


def _new_iv(iv: bytes | None) -> bytes:
    if iv is None:
        return secrets.token_bytes(NONCE_SIZE)
    if len(iv) != NONCE_SIZE:
        raise ValueError(f"IV must be {NONCE_SIZE} bytes, got {len(iv)}")
    return bytes(iv)


def encrypt(key: bytes | bytearray, plaintext: bytes, *, iv: bytes | None = None) -> bytes:
    """A v2 file, byte-identical to CockroachDB's EncryptFile given the same IV (random if None)."""
    iv = _new_iv(iv)
    header = PREAMBLE + bytes([VERSION_V2]) + iv
    return b"".join([header, *_seal_all(AESGCM(key), iv, plaintext)])


def encrypt_v1(key: bytes | bytearray, plaintext: bytes, *, iv: bytes | None = None) -> bytes:
    """A legacy v1 file (one GCM message); CockroachDB still reads these. For tests and fixtures."""
    iv = _new_iv(iv)
    sealed = AESGCM(key).encrypt(iv, plaintext, None)
    return PREAMBLE + bytes([VERSION_V1]) + iv + sealed


def _decrypt_into(aead: AESGCM) -> Callable[[bytes, memoryview, None, memoryview], object]:
    """AESGCM.decrypt_into (cryptography >= 46: no per-chunk allocation), else decrypt + copy."""
    into = getattr(aead, "decrypt_into", None)
    if into is not None:
        return cast(Callable[[bytes, memoryview, None, memoryview], object], into)

    def copying(nonce: bytes, sealed: memoryview, aad: None, out: memoryview) -> None:
        out[:] = aead.decrypt(nonce, sealed, aad)

    return copying


def _open_v2_into(
    aead: AESGCM, iv: bytes, sealed: memoryview, first: int, out: memoryview, name: str
) -> None:
    """Open the consecutive sealed chunks `sealed` (chunk `first` onwards) into `out`, which has
    exactly their plaintext length; every chunk's tag is checked."""
    opened, step = _decrypt_into(aead), SEALED_CHUNK_SIZE
    counter = int.from_bytes(iv[4:NONCE_SIZE], "big")
    prefix = bytes(iv[:4])
    n = len(sealed)
    i = first
    at = 0
    for off in range(0, n, step):
        part = sealed[off : off + step]
        size = len(part) - TAG_SIZE
        if size < 0:
            raise DecryptError(f"{name}: file appears truncated")
        try:
            opened(prefix + ((counter + i) & _U64).to_bytes(8, "big"), part, None, out[at : at + size])
        except InvalidTag:
            raise _failed(name, i) from None
        at += size
        i += 1


def decrypt(key: bytes | bytearray, data: bytes, *, name: str = "file") -> bytearray:
    """The plaintext of a whole v1 or v2 file held in memory; `name` labels errors.

    The plaintext is opened chunk by chunk straight into one preallocated buffer (no per-chunk
    bytes, no join, no zero-fill: engine.formats.buffers), which is why the result is a
    bytearray."""
    view = memoryview(data).cast("B")
    version, iv = _parse_header(bytes(view[:HEADER_SIZE]), len(view), name)
    aead = _aead(key, name)
    body = view[HEADER_SIZE:]
    if version == VERSION_V1:
        out = new_buffer(len(body) - TAG_SIZE)
        try:
            _decrypt_into(aead)(iv, body, None, memoryview(out))
        except InvalidTag:
            raise _failed(name, None) from None
        return out
    out = new_buffer(plaintext_size(len(view)))
    _open_v2_into(aead, iv, body, 0, memoryview(out), name)
    return out


class EncryptingWriter:
    """Streams a v2 file to `sink` in sealed 64 KiB chunks (CockroachDB's EncryptingWriter).

    The header goes to the sink at construction. `close()` seals the final short chunk; leaving
    a `with` block by an exception does *not* seal it, so an aborted write never looks complete.
    """

    def __init__(
        self, sink: Callable[[bytes], object], key: bytes | bytearray, *, iv: bytes | None = None
    ) -> None:
        self._sink = sink
        self._aead = AESGCM(key)
        self._iv = _new_iv(iv)
        self._index = 0
        self._buf = bytearray()
        self._closed = False
        sink(PREAMBLE + bytes([VERSION_V2]) + self._iv)

    def _seal(self, chunk: bytes | bytearray | memoryview) -> None:
        self._sink(self._aead.encrypt(chunk_nonce(self._iv, self._index), chunk, None))
        self._index += 1

    def write(self, data: bytes) -> None:
        """Buffer `data`, sealing and emitting every complete chunk."""
        if self._closed:
            raise ValueError("write to a closed EncryptingWriter")
        view = memoryview(data).cast("B")
        if self._buf:
            take = min(CHUNK_SIZE - len(self._buf), len(view))
            self._buf += view[:take]
            view = view[take:]
            if len(self._buf) < CHUNK_SIZE:
                return
            self._seal(self._buf)
            self._buf.clear()
        # Whole chunks straight from the caller's buffer, no copy.
        while len(view) >= CHUNK_SIZE:
            self._seal(view[:CHUNK_SIZE])
            view = view[CHUNK_SIZE:]
        self._buf += view

    def close(self) -> None:
        """Seal the remaining (< 64 KiB, possibly empty) chunk; idempotent."""
        if self._closed:
            return
        self._seal(self._buf)
        self._buf.clear()
        self._closed = True

    def __enter__(self) -> EncryptingWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self._closed = True
            self._buf.clear()


class DecryptingReader:
    """Random-access plaintext view of a stored v1/v2 file, fetching only what is needed.

    `read_range(offset, length)` returns those stored bytes (e.g. a ranged GET); `size` is the
    stored size, which is what makes truncation detectable before any chunk is read. The header
    is fetched on first use. v1 files have no chunks, so they are fetched and opened whole.
    """

    def __init__(
        self,
        read_range: Callable[[int, int], bytes],
        size: int,
        key: bytes | bytearray,
        *,
        name: str = "file",
    ) -> None:
        self._read_range = read_range
        self._size = size
        self._name = name
        self._aead = _aead(key, name)
        self._version = 0
        self._iv = b""
        self._cached_index = -1
        self._cached = b""

    def _fetch(self, offset: int, length: int) -> bytes:
        data = self._read_range(offset, length)
        if len(data) < length:
            raise DecryptError(f"{self._name}: file appears truncated (short read at {offset})")
        if len(data) > length:
            raise DecryptError(f"{self._name}: storage returned {len(data)} bytes for {length}")
        return data

    def _header(self) -> None:
        if self._version:
            return
        head = self._read_range(0, min(HEADER_SIZE, max(self._size, 0)))
        self._version, self._iv = _parse_header(head, self._size, self._name)

    @property
    def version(self) -> int:
        """1 or 2, from the header."""
        self._header()
        return self._version

    @property
    def plaintext_size(self) -> int:
        """Plaintext length, known from the stored size alone."""
        self._header()
        if self._version == VERSION_V1:
            return self._size - HEADER_SIZE - TAG_SIZE
        return plaintext_size(self._size)

    @property
    def num_chunks(self) -> int:
        """Number of chunks (v1: one, the whole file)."""
        self._header()
        if self._version == VERSION_V1:
            return 1
        return (self._size - HEADER_SIZE) // SEALED_CHUNK_SIZE + 1

    def _open(self, index: int, sealed: bytes | memoryview) -> bytes:
        try:
            if self._version == VERSION_V1:
                return self._aead.decrypt(self._iv, sealed, None)
            return self._aead.decrypt(chunk_nonce(self._iv, index), sealed, None)
        except InvalidTag:
            raise _failed(self._name, None if self._version == VERSION_V1 else index) from None

    def _sealed_span(self, index: int) -> tuple[int, int]:
        start = HEADER_SIZE + index * SEALED_CHUNK_SIZE
        return start, min(SEALED_CHUNK_SIZE, self._size - start)

    def read_chunk(self, i: int) -> bytes:
        """Plaintext of chunk `i` (v1: index 0 is the whole file)."""
        count = self.num_chunks
        if not 0 <= i < count:
            raise IndexError(f"{self._name}: chunk {i} out of range (file has {count})")
        if i != self._cached_index:
            if self._version == VERSION_V1:
                sealed = self._fetch(HEADER_SIZE, self._size - HEADER_SIZE)
            else:
                sealed = self._fetch(*self._sealed_span(i))
            self._cached = self._open(i, sealed)
            self._cached_index = i
        return self._cached

    def read(self, offset: int, length: int) -> bytes:
        """`length` plaintext bytes from `offset` (fewer at EOF), opening only those chunks."""
        if offset < 0 or length < 0:
            raise ValueError("offset and length must be >= 0")
        end = min(offset + length, self.plaintext_size)
        if offset >= end:
            return b""
        if self._version == VERSION_V1:
            return self.read_chunk(0)[offset:end]
        first, last = offset // CHUNK_SIZE, (end - 1) // CHUNK_SIZE
        parts = [self.read_chunk(i) for i in range(first, last + 1)]
        joined = parts[0] if len(parts) == 1 else b"".join(parts)
        base = first * CHUNK_SIZE
        return joined[offset - base : end - base]

    def chunks(self) -> Iterator[bytes]:
        """Every chunk's plaintext in order, fetching ~1 MiB of ciphertext at a time."""
        count = self.num_chunks
        if self._version == VERSION_V1:
            yield self.read_chunk(0)
            return
        # Hot loop: locals instead of per-chunk attribute lookups and method calls.
        opened, nonce, iv, step = self._aead.decrypt, chunk_nonce, self._iv, SEALED_CHUNK_SIZE
        for first in range(0, count, _READ_BATCH_CHUNKS):
            stop = min(first + _READ_BATCH_CHUNKS, count)
            start = HEADER_SIZE + first * SEALED_CHUNK_SIZE
            end = min(HEADER_SIZE + stop * SEALED_CHUNK_SIZE, self._size)
            view = memoryview(self._fetch(start, end - start))
            for off, i in enumerate(range(first, stop)):
                try:
                    plain = opened(nonce(iv, i), view[off * step : (off + 1) * step], None)
                except InvalidTag:
                    raise _failed(self._name, i) from None
                yield plain
            del view

    def plaintext(self, on_batch: Callable[[int], None] | None = None) -> bytearray:
        """The whole plaintext in one preallocated buffer, every GCM tag checked; ciphertext is
        fetched ~1 MiB at a time, so memory is the plaintext plus one batch.
        `on_batch(stored bytes read so far)` runs after each batch: progress, and a place to
        raise (cancellation) between batches."""
        out = new_buffer(self.plaintext_size)
        self.plaintext_into(out, on_batch)
        return out

    def plaintext_into(
        self, buffer: bytearray, on_batch: Callable[[int], None] | None = None
    ) -> memoryview:
        """plaintext() into the start of `buffer` (at least plaintext_size bytes), returned as a
        view of exactly the plaintext: one buffer reused across files is never faulted in or
        freed again. On an error the buffer's contents are unspecified."""
        size = self.plaintext_size
        if len(buffer) < size:
            raise ValueError(f"{self._name}: buffer of {len(buffer)} bytes for {size} of plaintext")
        view = memoryview(buffer)[:size]
        if self._version == VERSION_V1:
            sealed = memoryview(self._fetch(HEADER_SIZE, self._size - HEADER_SIZE))
            try:
                _decrypt_into(self._aead)(self._iv, sealed, None, view)
            except InvalidTag:
                raise _failed(self._name, None) from None
            if on_batch is not None:
                on_batch(self._size)
            return view
        count = self.num_chunks
        for first in range(0, count, _READ_BATCH_CHUNKS):
            end = self.open_chunks_into(view, first, min(first + _READ_BATCH_CHUNKS, count))
            if on_batch is not None:
                on_batch(end)
        return view

    def open_chunks_into(self, view: memoryview, first: int, stop: int) -> int:
        """Fetch v2 chunks [first, stop) in one read and open them into `view` (exactly the
        file's plaintext) at their own offsets, every tag checked; the stored offset where they
        end. The pieces plaintext_into and a pipelined check (engine.formats.sst_pipeline)
        are built from: any chunk order, one fetch per call."""
        if self.version != VERSION_V2:
            raise ValueError(f"{self._name}: a v1 file has no chunks to open separately")
        start = HEADER_SIZE + first * SEALED_CHUNK_SIZE
        end = min(HEADER_SIZE + stop * SEALED_CHUNK_SIZE, self._size)
        sealed = memoryview(self._fetch(start, end - start))
        at = first * CHUNK_SIZE
        n = len(sealed) - TAG_SIZE * (stop - first)
        _open_v2_into(self._aead, self._iv, sealed, first, view[at : at + n], self._name)
        return end
