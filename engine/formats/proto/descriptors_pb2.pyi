from engine.formats.proto import hlc_pb2 as _hlc_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DescriptorState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PUBLIC: _ClassVar[DescriptorState]
    ADD: _ClassVar[DescriptorState]
    DROP: _ClassVar[DescriptorState]
    OFFLINE: _ClassVar[DescriptorState]
PUBLIC: DescriptorState
ADD: DescriptorState
DROP: DescriptorState
OFFLINE: DescriptorState

class TableDescriptor(_message.Message):
    __slots__ = ("name", "id", "parent_id", "version", "modification_time", "state", "view_query", "temporary", "offline_reason", "unexposed_parent_schema_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    MODIFICATION_TIME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    VIEW_QUERY_FIELD_NUMBER: _ClassVar[int]
    TEMPORARY_FIELD_NUMBER: _ClassVar[int]
    OFFLINE_REASON_FIELD_NUMBER: _ClassVar[int]
    UNEXPOSED_PARENT_SCHEMA_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    id: int
    parent_id: int
    version: int
    modification_time: _hlc_pb2.Timestamp
    state: DescriptorState
    view_query: str
    temporary: bool
    offline_reason: str
    unexposed_parent_schema_id: int
    def __init__(self, name: _Optional[str] = ..., id: _Optional[int] = ..., parent_id: _Optional[int] = ..., version: _Optional[int] = ..., modification_time: _Optional[_Union[_hlc_pb2.Timestamp, _Mapping]] = ..., state: _Optional[_Union[DescriptorState, str]] = ..., view_query: _Optional[str] = ..., temporary: _Optional[bool] = ..., offline_reason: _Optional[str] = ..., unexposed_parent_schema_id: _Optional[int] = ...) -> None: ...

class DatabaseDescriptor(_message.Message):
    __slots__ = ("name", "id", "modification_time", "version", "state", "offline_reason")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    MODIFICATION_TIME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    OFFLINE_REASON_FIELD_NUMBER: _ClassVar[int]
    name: str
    id: int
    modification_time: _hlc_pb2.Timestamp
    version: int
    state: DescriptorState
    offline_reason: str
    def __init__(self, name: _Optional[str] = ..., id: _Optional[int] = ..., modification_time: _Optional[_Union[_hlc_pb2.Timestamp, _Mapping]] = ..., version: _Optional[int] = ..., state: _Optional[_Union[DescriptorState, str]] = ..., offline_reason: _Optional[str] = ...) -> None: ...

class TypeDescriptor(_message.Message):
    __slots__ = ("parent_id", "parent_schema_id", "name", "id", "kind", "array_type_id", "version", "modification_time", "state", "offline_reason")
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        ENUM: _ClassVar[TypeDescriptor.Kind]
        ALIAS: _ClassVar[TypeDescriptor.Kind]
        MULTIREGION_ENUM: _ClassVar[TypeDescriptor.Kind]
        TABLE_IMPLICIT_RECORD_TYPE: _ClassVar[TypeDescriptor.Kind]
        COMPOSITE: _ClassVar[TypeDescriptor.Kind]
    ENUM: TypeDescriptor.Kind
    ALIAS: TypeDescriptor.Kind
    MULTIREGION_ENUM: TypeDescriptor.Kind
    TABLE_IMPLICIT_RECORD_TYPE: TypeDescriptor.Kind
    COMPOSITE: TypeDescriptor.Kind
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    PARENT_SCHEMA_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ARRAY_TYPE_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    MODIFICATION_TIME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    OFFLINE_REASON_FIELD_NUMBER: _ClassVar[int]
    parent_id: int
    parent_schema_id: int
    name: str
    id: int
    kind: TypeDescriptor.Kind
    array_type_id: int
    version: int
    modification_time: _hlc_pb2.Timestamp
    state: DescriptorState
    offline_reason: str
    def __init__(self, parent_id: _Optional[int] = ..., parent_schema_id: _Optional[int] = ..., name: _Optional[str] = ..., id: _Optional[int] = ..., kind: _Optional[_Union[TypeDescriptor.Kind, str]] = ..., array_type_id: _Optional[int] = ..., version: _Optional[int] = ..., modification_time: _Optional[_Union[_hlc_pb2.Timestamp, _Mapping]] = ..., state: _Optional[_Union[DescriptorState, str]] = ..., offline_reason: _Optional[str] = ...) -> None: ...

class SchemaDescriptor(_message.Message):
    __slots__ = ("parent_id", "name", "id", "modification_time", "version", "state", "offline_reason")
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    MODIFICATION_TIME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    OFFLINE_REASON_FIELD_NUMBER: _ClassVar[int]
    parent_id: int
    name: str
    id: int
    modification_time: _hlc_pb2.Timestamp
    version: int
    state: DescriptorState
    offline_reason: str
    def __init__(self, parent_id: _Optional[int] = ..., name: _Optional[str] = ..., id: _Optional[int] = ..., modification_time: _Optional[_Union[_hlc_pb2.Timestamp, _Mapping]] = ..., version: _Optional[int] = ..., state: _Optional[_Union[DescriptorState, str]] = ..., offline_reason: _Optional[str] = ...) -> None: ...

class FunctionDescriptor(_message.Message):
    __slots__ = ("name", "id", "parent_id", "parent_schema_id", "state", "offline_reason", "version", "modification_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    PARENT_SCHEMA_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    OFFLINE_REASON_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    MODIFICATION_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    id: int
    parent_id: int
    parent_schema_id: int
    state: DescriptorState
    offline_reason: str
    version: int
    modification_time: _hlc_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., id: _Optional[int] = ..., parent_id: _Optional[int] = ..., parent_schema_id: _Optional[int] = ..., state: _Optional[_Union[DescriptorState, str]] = ..., offline_reason: _Optional[str] = ..., version: _Optional[int] = ..., modification_time: _Optional[_Union[_hlc_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Descriptor(_message.Message):
    __slots__ = ("table", "database", "type", "schema", "function")
    TABLE_FIELD_NUMBER: _ClassVar[int]
    DATABASE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    FUNCTION_FIELD_NUMBER: _ClassVar[int]
    table: TableDescriptor
    database: DatabaseDescriptor
    type: TypeDescriptor
    schema: SchemaDescriptor
    function: FunctionDescriptor
    def __init__(self, table: _Optional[_Union[TableDescriptor, _Mapping]] = ..., database: _Optional[_Union[DatabaseDescriptor, _Mapping]] = ..., type: _Optional[_Union[TypeDescriptor, _Mapping]] = ..., schema: _Optional[_Union[SchemaDescriptor, _Mapping]] = ..., function: _Optional[_Union[FunctionDescriptor, _Mapping]] = ...) -> None: ...
