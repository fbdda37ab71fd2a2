from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class Timestamp(_message.Message):
    __slots__ = ("wall_time", "logical")
    WALL_TIME_FIELD_NUMBER: _ClassVar[int]
    LOGICAL_FIELD_NUMBER: _ClassVar[int]
    wall_time: int
    logical: int
    def __init__(self, wall_time: _Optional[int] = ..., logical: _Optional[int] = ...) -> None: ...
