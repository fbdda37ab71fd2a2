"""A KMS error body that echoes the request headers never puts a secret anywhere (issue 15, item 2).

Before: `aws kms Encrypt: AccessDeniedException: ... X-Amz-Security-Token: <token>` went to
stderr, into the row's error on stdout and into the audit journal. Now SDK error texts are
scrubbed where they enter rewrap (engine/scrub.py, KMS.call): every secret value of the URI and
every credential header value become `redacted`.
"""

from __future__ import annotations

from pathlib import Path

from engine.kms import KMSError, open_kms
from tests.cli.cli_support import COLL, OLD_KMS, demo_io_dir, env_for, run
from tests.kms.hang_servers import EchoErrorServer

TOKEN = "FQoGZXIvYXdzEXAMPLEsessionTOKEN+with/odd=chars"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY"


def uri(endpoint: str) -> str:
    from urllib.parse import quote

    return (
        f"aws:///alias/k?AWS_ACCESS_KEY_ID=AKIAEXAMPLE&AWS_SECRET_ACCESS_KEY={quote(SECRET, safe='')}"
        f"&AWS_SESSION_TOKEN={quote(TOKEN, safe='')}&REGION=us-east-1&AWS_ENDPOINT={endpoint}"
    )


def test_echoed_session_token_is_scrubbed_from_the_kms_error() -> None:
    with EchoErrorServer() as server, open_kms(uri(server.http)) as kms:
        try:
            kms.encrypt(b"k" * 32)
        except KMSError as e:
            text = str(e)
        else:
            raise AssertionError("the echo server refuses every call")
    assert "AccessDeniedException" in text and "X-Amz-Security-Token: redacted" in text
    assert TOKEN not in text and SECRET not in text
    assert "Signature=" not in text  # the Authorization header's value is gone too


def test_echoed_session_token_reaches_no_output_and_no_journal(tmp_path: Path) -> None:
    io_dir = demo_io_dir(tmp_path)
    env = env_for(tmp_path, io_dir)
    with EchoErrorServer() as server:
        sql = f"ALTER BACKUP ALL IN '{COLL}' ADD NEW_KMS = '{uri(server.http)}' WITH OLD_KMS = '{OLD_KMS}'"
        outputs = [run(["--format", fmt, "-e", sql], env) for fmt in ("table", "json")]
    journal = (tmp_path / "data" / "audit.jsonl").read_text()
    assert "AccessDeniedException" in journal  # the error was recorded, without the secrets
    for p in outputs:
        assert p.returncode == 1
        assert b"AccessDeniedException" in p.stderr
    for text in [journal] + [(p.stdout + p.stderr).decode() for p in outputs]:
        for secret in (TOKEN, SECRET, TOKEN.split("+")[0], SECRET.split("/")[-1]):
            assert secret not in text
