"""KMS deadlines through the command (issue 15, item 5).

Before: an AWS KMS that never answers cost 30.8 s per call, serially for each backup; Azure with
its login host unreachable took 94 s and printed 6 SDK log lines. Now each statement fails
with rewrap's own error naming the endpoint and the deadline (--kms-timeout), a dead KMS is
waited on once per run, and stderr holds only rewrap's lines.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.cli_support import COLL, OLD_KMS, demo_io_dir, env_for, run
from tests.kms.hang_servers import HangServer

DEADLINE = 2.0
OURS = ("ERROR: ", "WARNING: ", "rewrap: ")


def alter_all(new_kms: str) -> str:
    return f"ALTER BACKUP ALL IN '{COLL}' ADD NEW_KMS = '{new_kms}' WITH OLD_KMS = '{OLD_KMS}'"


def test_aws_kms_that_never_answers_fails_every_backup_within_one_deadline(tmp_path: Path) -> None:
    io_dir = demo_io_dir(tmp_path)
    with HangServer() as server:
        new = (
            "aws:///alias/new?AWS_ACCESS_KEY_ID=AKIAEXAMPLE&AWS_SECRET_ACCESS_KEY=awssecret42"
            f"&REGION=us-east-1&AWS_ENDPOINT={server.http}"
        )
        p = run(["--kms-timeout", str(DEADLINE), "--concurrency", "1", "--format", "json",
                 "-e", alter_all(new)], env_for(tmp_path, io_dir))
    rows = [json.loads(line) for line in p.stdout.decode().splitlines()]
    assert p.returncode == 1
    assert [r["status"] for r in rows] == ["failed"] * 3
    assert "timed out" in rows[0]["error"] and server.http in rows[0]["error"]
    assert all("not tried" in r["error"] for r in rows[1:])  # serially: waited on once, not 3 times
    assert "awssecret42" not in (p.stdout + p.stderr).decode()


def test_azure_with_login_host_unreachable_fails_quietly_at_the_deadline(tmp_path: Path, fake_vault) -> None:  # type: ignore[no-untyped-def]
    io_dir = demo_io_dir(tmp_path)
    new = (
        "azure-kms:///key/0123456789abcdef?AZURE_VAULT_NAME=v&AZURE_CLIENT_ID=c"
        "&AZURE_CLIENT_SECRET=azsecret77&AZURE_TENANT_ID=00000000-0000-0000-0000-000000000000"
    )
    with HangServer() as login:
        env = env_for(
            tmp_path, io_dir,
            REWRAP_TEST_AZURE_VAULT_URL=fake_vault.url,
            REWRAP_TEST_AZURE_TLS_CA=fake_vault.ca,
            REWRAP_TEST_AZURE_LOGIN_HOST=login.https,
        )
        p = run(["--kms-timeout", str(DEADLINE), "-e", alter_all(new)], env)
        assert login.connections >= 1
    err = p.stderr.decode()
    assert p.returncode == 1
    assert "timed out" in err and login.https in err
    lines = err.splitlines()
    assert lines and all(line.startswith(OURS) for line in lines), err  # no SDK log line
    assert "azsecret77" not in err + p.stdout.decode()


def test_azure_login_refused_prints_no_sdk_log_line(tmp_path: Path, fake_vault) -> None:  # type: ignore[no-untyped-def]
    """A login host that refuses connections: azure-identity logs `ClientSecretCredential.
    get_token_info failed: ...` once per attempt through logging's last-resort handler, which
    printed those lines on stderr next to rewrap's own error."""
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    io_dir = demo_io_dir(tmp_path)
    new = (
        "azure-kms:///key/0123456789abcdef?AZURE_VAULT_NAME=v&AZURE_CLIENT_ID=c"
        "&AZURE_CLIENT_SECRET=azsecret78&AZURE_TENANT_ID=00000000-0000-0000-0000-000000000000"
    )
    env = env_for(
        tmp_path, io_dir,
        REWRAP_TEST_AZURE_VAULT_URL=fake_vault.url,
        REWRAP_TEST_AZURE_TLS_CA=fake_vault.ca,
        REWRAP_TEST_AZURE_LOGIN_HOST=f"https://127.0.0.1:{port}",
    )
    p = run(["--kms-timeout", "120", "-e", alter_all(new)], env)
    err = p.stderr.decode()
    assert p.returncode == 1
    assert "Connection refused" in err and f"https://127.0.0.1:{port}" in err, err  # the SDK failure, told by us
    lines = err.splitlines()
    assert lines and all(line.startswith(OURS) for line in lines), err
    assert "get_token" not in err and "azsecret78" not in err
