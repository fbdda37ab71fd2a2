from engine.formats.proto import hlc_pb2 as _hlc_pb2
from engine.formats.proto import roachpb_pb2 as _roachpb_pb2
from engine.formats.proto import build_pb2 as _build_pb2
from engine.formats.proto import descriptors_pb2 as _descriptors_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MVCCFilter(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    Latest: _ClassVar[MVCCFilter]
    All: _ClassVar[MVCCFilter]
Latest: MVCCFilter
All: MVCCFilter

class BackupManifest(_message.Message):
    __slots__ = ("start_time", "end_time", "spans", "files", "descriptors", "format_version", "cluster_id", "node_id", "build_info", "entry_counts", "mvcc_filter", "complete_dbs", "introduced_spans", "descriptor_changes", "revision_start_time", "id", "partition_descriptor_filenames", "locality_kvs", "descriptor_coverage", "statistics_filenames", "cluster_version", "has_external_manifest_ssts", "elided_prefix", "is_compacted")
    class File(_message.Message):
        __slots__ = ("span", "path", "entry_counts", "start_time", "end_time", "locality_kv", "backing_file_size", "approximate_physical_size", "has_range_keys")
        SPAN_FIELD_NUMBER: _ClassVar[int]
        PATH_FIELD_NUMBER: _ClassVar[int]
        ENTRY_COUNTS_FIELD_NUMBER: _ClassVar[int]
        START_TIME_FIELD_NUMBER: _ClassVar[int]
        END_TIME_FIELD_NUMBER: _ClassVar[int]
        LOCALITY_KV_FIELD_NUMBER: _ClassVar[int]
        BACKING_FILE_SIZE_FIELD_NUMBER: _ClassVar[int]
        APPROXIMATE_PHYSICAL_SIZE_FIELD_NUMBER: _ClassVar[int]
        HAS_RANGE_KEYS_FIELD_NUMBER: _ClassVar[int]
        span: _roachpb_pb2.Span
        path: str
        entry_counts: _roachpb_pb2.RowCount
        start_time: _hlc_pb2.Timestamp
        end_time: _hlc_pb2.Timestamp
        locality_kv: str
        backing_file_size: int
        approximate_physical_size: int
        has_range_keys: bool
        def __init__(self, span: _Optional[_Union[_roachpb_pb2.Span, _Mapping]] = ..., path: _Optional[str] = ..., entry_counts: _Optional[_Union[_roachpb_pb2.RowCount, _Mapping]] = ..., start_time: _Optional[_Union[_hlc_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[_hlc_pb2.Timestamp, _Mapping]] = ..., locality_kv: _Optional[str] = ..., backing_file_size: _Optional[int] = ..., approximate_physical_size: _Optional[int] = ..., has_range_keys: _Optional[bool] = ...) -> None: ...
    class DescriptorRevision(_message.Message):
        __slots__ = ("time", "id", "desc")
        TIME_FIELD_NUMBER: _ClassVar[int]
        ID_FIELD_NUMBER: _ClassVar[int]
        DESC_FIELD_NUMBER: _ClassVar[int]
        time: _hlc_pb2.Timestamp
        id: int
        desc: _descriptors_pb2.Descriptor
        def __init__(self, time: _Optional[_Union[_hlc_pb2.Timestamp, _Mapping]] = ..., id: _Optional[int] = ..., desc: _Optional[_Union[_descriptors_pb2.Descriptor, _Mapping]] = ...) -> None: ...
    class StatisticsFilenamesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: str
        def __init__(self, key: _Optional[int] = ..., value: _Optional[str] = ...) -> None: ...
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    SPANS_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTORS_FIELD_NUMBER: _ClassVar[int]
    FORMAT_VERSION_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_ID_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    BUILD_INFO_FIELD_NUMBER: _ClassVar[int]
    ENTRY_COUNTS_FIELD_NUMBER: _ClassVar[int]
    MVCC_FILTER_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_DBS_FIELD_NUMBER: _ClassVar[int]
    INTRODUCED_SPANS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTOR_CHANGES_FIELD_NUMBER: _ClassVar[int]
    REVISION_START_TIME_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    PARTITION_DESCRIPTOR_FILENAMES_FIELD_NUMBER: _ClassVar[int]
    LOCALITY_KVS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTOR_COVERAGE_FIELD_NUMBER: _ClassVar[int]
    STATISTICS_FILENAMES_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_VERSION_FIELD_NUMBER: _ClassVar[int]
    HAS_EXTERNAL_MANIFEST_SSTS_FIELD_NUMBER: _ClassVar[int]
    ELIDED_PREFIX_FIELD_NUMBER: _ClassVar[int]
    IS_COMPACTED_FIELD_NUMBER: _ClassVar[int]
    start_time: _hlc_pb2.Timestamp
    end_time: _hlc_pb2.Timestamp
    spans: _containers.RepeatedCompositeFieldContainer[_roachpb_pb2.Span]
    files: _containers.RepeatedCompositeFieldContainer[BackupManifest.File]
    descriptors: _containers.RepeatedCompositeFieldContainer[_descriptors_pb2.Descriptor]
    format_version: int
    cluster_id: bytes
    node_id: int
    build_info: _build_pb2.Info
    entry_counts: _roachpb_pb2.RowCount
    mvcc_filter: MVCCFilter
    complete_dbs: _containers.RepeatedScalarFieldContainer[int]
    introduced_spans: _containers.RepeatedCompositeFieldContainer[_roachpb_pb2.Span]
    descriptor_changes: _containers.RepeatedCompositeFieldContainer[BackupManifest.DescriptorRevision]
    revision_start_time: _hlc_pb2.Timestamp
    id: bytes
    partition_descriptor_filenames: _containers.RepeatedScalarFieldContainer[str]
    locality_kvs: _containers.RepeatedScalarFieldContainer[str]
    descriptor_coverage: int
    statistics_filenames: _containers.ScalarMap[int, str]
    cluster_version: _roachpb_pb2.Version
    has_external_manifest_ssts: bool
    elided_prefix: int
    is_compacted: bool
    def __init__(self, start_time: _Optional[_Union[_hlc_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[_hlc_pb2.Timestamp, _Mapping]] = ..., spans: _Optional[_Iterable[_Union[_roachpb_pb2.Span, _Mapping]]] = ..., files: _Optional[_Iterable[_Union[BackupManifest.File, _Mapping]]] = ..., descriptors: _Optional[_Iterable[_Union[_descriptors_pb2.Descriptor, _Mapping]]] = ..., format_version: _Optional[int] = ..., cluster_id: _Optional[bytes] = ..., node_id: _Optional[int] = ..., build_info: _Optional[_Union[_build_pb2.Info, _Mapping]] = ..., entry_counts: _Optional[_Union[_roachpb_pb2.RowCount, _Mapping]] = ..., mvcc_filter: _Optional[_Union[MVCCFilter, str]] = ..., complete_dbs: _Optional[_Iterable[int]] = ..., introduced_spans: _Optional[_Iterable[_Union[_roachpb_pb2.Span, _Mapping]]] = ..., descriptor_changes: _Optional[_Iterable[_Union[BackupManifest.DescriptorRevision, _Mapping]]] = ..., revision_start_time: _Optional[_Union[_hlc_pb2.Timestamp, _Mapping]] = ..., id: _Optional[bytes] = ..., partition_descriptor_filenames: _Optional[_Iterable[str]] = ..., locality_kvs: _Optional[_Iterable[str]] = ..., descriptor_coverage: _Optional[int] = ..., statistics_filenames: _Optional[_Mapping[int, str]] = ..., cluster_version: _Optional[_Union[_roachpb_pb2.Version, _Mapping]] = ..., has_external_manifest_ssts: _Optional[bool] = ..., elided_prefix: _Optional[int] = ..., is_compacted: _Optional[bool] = ...) -> None: ...

class BackupPartitionDescriptor(_message.Message):
    __slots__ = ("locality_kv", "files", "backup_id")
    LOCALITY_KV_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    BACKUP_ID_FIELD_NUMBER: _ClassVar[int]
    locality_kv: str
    files: _containers.RepeatedCompositeFieldContainer[BackupManifest.File]
    backup_id: bytes
    def __init__(self, locality_kv: _Optional[str] = ..., files: _Optional[_Iterable[_Union[BackupManifest.File, _Mapping]]] = ..., backup_id: _Optional[bytes] = ...) -> None: ...
