# The C extension engine.formats._blockscan (engine/formats/native/module.c); load it through
# engine.formats.blockscan, which knows whether it was built.
CMP_BYTEWISE: int
CMP_COCKROACH: int

def scan_blocks(
    data: bytes | bytearray | memoryview,
    handles: list[tuple[int, int]],
    end: int,
    checksum: int,
    pebble_version: int,
    comparer: int,
    columnar: bool,
) -> list[tuple[int, bytes, int, bytes, int] | None]: ...
def scan_block(
    block: bytes | bytearray | memoryview, pebble_version: int, comparer: int, columnar: bool
) -> tuple[int, bytes, int, bytes, int] | None: ...
def index_entries(
    data: bytes | bytearray | memoryview, offset: int, length: int, end: int, checksum: int
) -> list[tuple[bytes, tuple[int, int]]] | None: ...
def crc32c(data: bytes | bytearray | memoryview, software: bool = ...) -> int: ...
def block_checksum(kind: int, data: bytes | bytearray | memoryview) -> int: ...
def decompress(indicator: int, block: bytes | bytearray | memoryview) -> bytes | None: ...
def compare(
    a: bytes | bytearray | memoryview, b: bytes | bytearray | memoryview, comparer: int
) -> int: ...
def check_boundaries(
    entries: list[tuple[bytes, tuple[int, int], tuple[int, bytes, int, bytes, int]]],
    start: int,
    comparer: int,
    columnar: bool,
    clear: int,
    sep_clear: int,
    prev_last: bytes | None,
    prev_trailer: int,
    prev_sep: bytes | None,
) -> tuple[int, int, bytes | None, int, bytes | None]: ...
