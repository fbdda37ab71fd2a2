"""Read-only inspection of backup collections for the faces (app, shell): listings, chains,
key files and the KMS URIs that unlock them, and sizes from the manifests. See service.py."""

from engine.inspection.kms_memory import KMSMemory, statement_kms_uris
from engine.inspection.service import (
    CollectionListing,
    FullBackupRef,
    Inspector,
    KeyFiles,
    end_time_from_path,
)
from engine.inspection.sizes import (
    UNKNOWN_UNTIL_UNLOCKED,
    LayerSizes,
    Sizes,
    SizeUnknown,
)

__all__ = [
    "UNKNOWN_UNTIL_UNLOCKED",
    "CollectionListing",
    "FullBackupRef",
    "Inspector",
    "KMSMemory",
    "KeyFiles",
    "LayerSizes",
    "SizeUnknown",
    "Sizes",
    "end_time_from_path",
    "statement_kms_uris",
]
