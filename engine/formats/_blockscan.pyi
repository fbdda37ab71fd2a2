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
def crc32c(data: bytes | bytearray | memoryview, software: bool = ...) -> int: ...
def block_checksum(kind: int, data: bytes | bytearray | memoryview) -> int: ...
def decompress(indicator: int, block: bytes | bytearray | memoryview) -> bytes | None: ...
