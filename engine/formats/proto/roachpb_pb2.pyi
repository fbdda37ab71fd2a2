from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class Span(_message.Message):
    __slots__ = ("key", "end_key")
    KEY_FIELD_NUMBER: _ClassVar[int]
    END_KEY_FIELD_NUMBER: _ClassVar[int]
    key: bytes
    end_key: bytes
    def __init__(self, key: _Optional[bytes] = ..., end_key: _Optional[bytes] = ...) -> None: ...

class RowCount(_message.Message):
    __slots__ = ("data_size", "rows", "index_entries")
    DATA_SIZE_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    INDEX_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    data_size: int
    rows: int
    index_entries: int
    def __init__(self, data_size: _Optional[int] = ..., rows: _Optional[int] = ..., index_entries: _Optional[int] = ...) -> None: ...

class Version(_message.Message):
    __slots__ = ("major_val", "minor_val", "patch", "internal")
    MAJOR_VAL_FIELD_NUMBER: _ClassVar[int]
    MINOR_VAL_FIELD_NUMBER: _ClassVar[int]
    PATCH_FIELD_NUMBER: _ClassVar[int]
    INTERNAL_FIELD_NUMBER: _ClassVar[int]
    major_val: int
    minor_val: int
    patch: int
    internal: int
    def __init__(self, major_val: _Optional[int] = ..., minor_val: _Optional[int] = ..., patch: _Optional[int] = ..., internal: _Optional[int] = ...) -> None: ...
