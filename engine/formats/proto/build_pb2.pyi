from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class Info(_message.Message):
    __slots__ = ("go_version", "tag", "time", "revision", "cgo_compiler", "platform", "distribution", "type", "channel", "cgo_target_triple", "dependencies")
    GO_VERSION_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    CGO_COMPILER_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    DISTRIBUTION_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    CGO_TARGET_TRIPLE_FIELD_NUMBER: _ClassVar[int]
    DEPENDENCIES_FIELD_NUMBER: _ClassVar[int]
    go_version: str
    tag: str
    time: str
    revision: str
    cgo_compiler: str
    platform: str
    distribution: str
    type: str
    channel: str
    cgo_target_triple: str
    dependencies: str
    def __init__(self, go_version: _Optional[str] = ..., tag: _Optional[str] = ..., time: _Optional[str] = ..., revision: _Optional[str] = ..., cgo_compiler: _Optional[str] = ..., platform: _Optional[str] = ..., distribution: _Optional[str] = ..., type: _Optional[str] = ..., channel: _Optional[str] = ..., cgo_target_triple: _Optional[str] = ..., dependencies: _Optional[str] = ...) -> None: ...
