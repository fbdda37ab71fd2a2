"""The one budget for every fuzzer and property test: a fixed seed, a small default that fits CI,
and `REWRAP_FUZZ_EXAMPLES=<n>` to run each of them longer (read here only, never by rewrap)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

ENV = "REWRAP_FUZZ_EXAMPLES"


def budget(default: int) -> settings:
    """Hypothesis settings: `default` examples (or $REWRAP_FUZZ_EXAMPLES), derandomized (a seed
    fixed per test, so a CI failure replays), no deadline (the machine is shared)."""
    examples = int(os.environ.get(ENV, "0") or 0) or default
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.function_scoped_fixture,  # a test may reuse one app or shell on purpose
        ],
    )
