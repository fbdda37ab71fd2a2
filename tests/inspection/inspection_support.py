"""Constants and demo descriptions shared by the inspection tests (a uniquely named module:
several test directories have a conftest.py, so `from conftest import ...` would be ambiguous)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engine.demo import DEFAULT_DEMO_KMS
from engine.storage import ExternalStorage, StorageSettings, open_storage
from tests.servers.fake_flaky_proxy import FlakyProxy

DEMO_URI = "nodelocal://self/demo"
DEMO_KMS = DEFAULT_DEMO_KMS
SEED = 5


@dataclass
class LocalDemo:
    extern: Path
    uri: str = DEMO_URI
    kms: str = DEMO_KMS

    @property
    def settings(self) -> StorageSettings:
        return StorageSettings(external_io_dir=self.extern)

    def opener(self) -> Callable[[str], ExternalStorage]:
        return lambda uri: open_storage(uri, self.settings)


@dataclass
class S3Demo:
    """A demo collection in a moto bucket; `uri` and `kms` go through `proxy`, which logs
    every request (method, path?query, X-Amz-Target)."""

    uri: str
    kms: str
    proxy: FlakyProxy
