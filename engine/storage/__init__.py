"""External storage per URI scheme: one interface, one module per scheme.

`open_storage(uri, settings)` picks the implementation; cloud SDKs are imported only when their
scheme is used.
"""

from engine.storage.base import (
    AlreadyExists,
    DelegatingStorage,
    ExternalStorage,
    NotAFile,
    NotFound,
    StorageError,
    StorageSettings,
)
from engine.storage.registry import open_storage

__all__ = [
    "AlreadyExists",
    "DelegatingStorage",
    "ExternalStorage",
    "NotAFile",
    "NotFound",
    "StorageError",
    "StorageSettings",
    "open_storage",
]
