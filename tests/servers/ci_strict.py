"""With CI=true a skip is a failure (issue 11, item 7).

The stand-in fixtures (tests/servers/*.py) and a few tool checks (tmux) skip when what they need
is not installed, which is right on a laptop and wrong in CI: there a missing moto_server,
fake-gcs-server, azurite or tmux would silently drop whole areas. This plugin turns every skip
(from a fixture, a marker or a test body; at collection or at run time) into a failure naming
the skip's reason when the environment variable CI is "true" or "1". xfail stays xfail.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import pytest


def ci_strict() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1")


def _reason(longrepr: Any) -> str:
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _fail(report: pytest.TestReport | pytest.CollectReport) -> None:
    report.outcome = "failed"
    report.longrepr = (f"CI=true: skipping is a failure here (a stand-in or tool is missing?): "
                       f"{_reason(report.longrepr)}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail") and ci_strict():
        _fail(report)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.CollectReport = outcome.get_result()
    if report.skipped and ci_strict():
        _fail(report)


def pytest_report_header(config: pytest.Config) -> str | None:
    return "CI=true: skips fail the run" if ci_strict() else None
