from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EncryptionInfo(_message.Message):
    __slots__ = ("scheme", "salt", "encrypted_data_key_by_kms_master_key_id")
    class Entry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: bytes
        value: bytes
        def __init__(self, key: _Optional[bytes] = ..., value: _Optional[bytes] = ...) -> None: ...
    SCHEME_FIELD_NUMBER: _ClassVar[int]
    SALT_FIELD_NUMBER: _ClassVar[int]
    ENCRYPTED_DATA_KEY_BY_KMS_MASTER_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    scheme: int
    salt: bytes
    encrypted_data_key_by_kms_master_key_id: _containers.RepeatedCompositeFieldContainer[EncryptionInfo.Entry]
    def __init__(self, scheme: _Optional[int] = ..., salt: _Optional[bytes] = ..., encrypted_data_key_by_kms_master_key_id: _Optional[_Iterable[_Union[EncryptionInfo.Entry, _Mapping]]] = ...) -> None: ...
