"""Where the demo collection lives, and its key.

Apart from engine.demo (the writer, ~0.15 s to import) so that the console can list an existing
demo collection before anything heavy loads; engine.demo imports these names from here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.settings import StorageSettings

DEFAULT_DEMO_KMS = "testkms:///demo-key"
DEMO_DIR_NAME = "demo"
DEMO_COLLECTION = f"nodelocal://self/{DEMO_DIR_NAME}"


def demo_collection_dir(storage: StorageSettings) -> Path:
    """The directory of DEMO_COLLECTION under the external-IO dir of `storage`."""
    return Path(storage.external_io_dir) / DEMO_DIR_NAME


def demo_written(path: Path) -> bool:
    """True once a demo collection (either manifest style) is in `path`."""
    return (path / "metadata").exists() or (path / "LATEST").exists()
