"""Shared pytest setup: the cloud stand-in fixtures live in tests/servers/ (one plugin per cloud);
tests/servers/ci_strict.py makes every skip a failure when CI=true."""

pytest_plugins = ["tests.servers.aws", "tests.servers.azure", "tests.servers.gcp", "tests.servers.ci_strict"]
