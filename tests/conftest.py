"""Shared pytest setup: the cloud stand-in fixtures live in tests/servers/ (one plugin per cloud)."""

pytest_plugins = ["tests.servers.aws", "tests.servers.azure", "tests.servers.gcp"]
