"""Local stand-ins for the clouds, started by session-scoped pytest fixtures (spec test-servers.md).

One plugin module per cloud (aws.py, azure.py, gcp.py), registered in tests/conftest.py. Each
server binds 127.0.0.1 on a free port, is polled until ready, and is stopped at session end.
"""
