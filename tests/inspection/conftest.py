"""Demo collections for the inspection service: local (nodelocal://, 26.2 and slim 26.3
layouts) and in moto S3 with an AWS KMS key, read through a counting proxy."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from inspection_support import SEED, LocalDemo, S3Demo

from engine.demo import write_demo, write_demo_collection
from engine.storage import open_storage
from tests.servers.aws import ACCESS_KEY, REGION, SECRET, MotoServer
from tests.servers.fake_flaky_proxy import FlakyProxy


def _template(tmp_path_factory: pytest.TempPathFactory, name: str, **kw: object) -> Path:
    d = tmp_path_factory.mktemp(name) / "demo"
    write_demo(d, seed=SEED, **kw)  # type: ignore[arg-type]
    return d


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _template(tmp_path_factory, "inspect-demo")


@pytest.fixture(scope="session")
def slim_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _template(tmp_path_factory, "inspect-slim", crdb_version="26.3")


def _copy(template: Path, tmp_path: Path) -> LocalDemo:
    extern = tmp_path / "extern"
    shutil.copytree(template, extern / "demo")
    return LocalDemo(extern)


@pytest.fixture
def local_demo(demo_template: Path, tmp_path: Path) -> LocalDemo:
    return _copy(demo_template, tmp_path)


@pytest.fixture
def slim_demo(slim_template: Path, tmp_path: Path) -> LocalDemo:
    return _copy(slim_template, tmp_path)


@pytest.fixture
def s3_demo(moto_server: MotoServer) -> Iterator[S3Demo]:
    bucket = moto_server.new_bucket("inspect")
    alias = f"alias/{bucket}"
    moto_server.new_key(alias)
    write_demo_collection(open_storage(moto_server.s3_uri(bucket, "c")), kms_uri=moto_server.kms_uri(alias), seed=SEED)
    with FlakyProxy(moto_server.endpoint, failures=0) as proxy:
        q = f"AWS_ENDPOINT={proxy.endpoint}&AWS_ACCESS_KEY_ID={ACCESS_KEY}&AWS_SECRET_ACCESS_KEY={SECRET}"
        yield S3Demo(f"s3://{bucket}/c?{q}", f"aws:///{alias}?{q}&REGION={REGION}", proxy)
