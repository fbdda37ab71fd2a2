"""Every KMS call has a whole-call deadline (issue 15, item 5: hangs).

Before: botocore's read timeout is per socket read, so an AWS endpoint that trickles a byte every
2 s was still waited on after 600 s; one that never answers cost 30.8 s per call (3 attempts of
a 10 s read timeout); Azure with an unreachable login host took 94 s. Now each call ends with a
KMSError naming the endpoint and the deadline (engine.settings.Limits.kms_timeout), and a KMS
that timed out once is not waited on again in the same run.
"""

from __future__ import annotations

import pytest

from engine.kms import KMSEnv, KMSError, open_kms
from engine.settings import Limits, set_limits
from tests.kms.hang_servers import HangServer, elapsed

DEADLINE = 1.0


@pytest.fixture(autouse=True)
def short_deadline():  # type: ignore[no-untyped-def]
    set_limits(Limits(kms_timeout=DEADLINE))
    yield
    set_limits(None)


def aws_uri(endpoint: str) -> str:
    return (
        "aws:///alias/k?AWS_ACCESS_KEY_ID=AKIAEXAMPLE&AWS_SECRET_ACCESS_KEY=secretvalue1"
        f"&REGION=us-east-1&AWS_ENDPOINT={endpoint}"
    )


@pytest.mark.parametrize("trickle", [0.0, 0.5], ids=["never-answers", "trickles"])
def test_aws_kms_call_fails_at_the_deadline_naming_the_endpoint(trickle: float) -> None:
    with HangServer(trickle=trickle) as server, open_kms(aws_uri(server.http)) as kms:
        # the client is built before the timed call, as the engine does before its pool
        # (KMS.prepare): on a loaded machine importing botocore alone can outlast a 1 s deadline
        set_limits(Limits(kms_timeout=30 * DEADLINE))
        kms.prepare()
        set_limits(Limits(kms_timeout=DEADLINE))
        took, err = elapsed(kms.encrypt, b"k" * 32)
        assert isinstance(err, KMSError), err
        text = str(err)
        assert "timed out" in text and server.http in text and f"{DEADLINE:g} s" in text
        assert "secretvalue1" not in text
        assert server.connections >= 1
        assert took < 5 * DEADLINE  # a ratio of the setting, not an absolute time
        # the same KMS is not waited on again in this run
        again_took, again = elapsed(kms.decrypt, b"x" * 40)
        assert isinstance(again, KMSError) and "not tried" in str(again) and server.http in str(again)
        assert again_took < DEADLINE


def test_azure_kms_with_its_login_host_unreachable_fails_at_the_deadline(fake_vault) -> None:  # type: ignore[no-untyped-def]
    uri = (
        "azure-kms:///key/0123456789abcdef?AZURE_VAULT_NAME=v&AZURE_CLIENT_ID=c"
        "&AZURE_CLIENT_SECRET=azsecret99&AZURE_TENANT_ID=00000000-0000-0000-0000-000000000000"  # the fake vault challenge's tenant
    )
    # the vault answers (with its 401 challenge); the Active Directory login host never does.
    # The vault's challenge must arrive within the deadline, so give a loaded machine room.
    deadline = 4 * DEADLINE
    set_limits(Limits(kms_timeout=deadline))
    with HangServer() as login:
        env = KMSEnv(azure_vault_url=fake_vault.url, azure_tls_ca=fake_vault.ca, azure_login_host=login.https)
        with open_kms(uri, env=env) as kms:
            took, err = elapsed(kms.encrypt, b"k" * 32)
        assert isinstance(err, KMSError), err
        assert "timed out" in str(err) and login.https in str(err)
        assert "azsecret99" not in str(err)
        assert login.connections >= 1  # it was the token request that hung
        assert took < 5 * deadline


# -- AWS calls made in the calling thread (engine.deadline.call_inline) ---------------------------


def test_aws_kms_calls_run_in_the_calling_thread(moto_server) -> None:  # type: ignore[no-untyped-def]
    """No helper thread per call (2 hand-offs through the interpreter lock each): the request
    is sent from the thread that asked, and the deadline still holds (tests above)."""
    import threading

    key = moto_server.new_key()
    with open_kms(moto_server.kms_uri(key)) as kms:
        kms.prepare()
        senders: list[int] = []
        kms._kms().meta.events.register("before-send.kms", lambda **kw: senders.append(threading.get_ident()))
        blob = kms.encrypt(b"k" * 32)
        assert bytes(kms.decrypt(blob)) == b"k" * 32
    assert senders == [threading.get_ident()] * 2


def test_assume_role_and_implicit_aws_credentials_keep_the_helper_thread() -> None:
    """Their credentials may come from STS or a metadata service inside a KMS call, on sockets
    the hooks do not see: those keep the helper-thread deadline."""
    static = open_kms(aws_uri("http://127.0.0.1:9"))
    role = open_kms(aws_uri("http://127.0.0.1:9") + "&ASSUME_ROLE=arn:aws:iam::123456789012:role/r")
    implicit = open_kms("aws:///alias/k?AUTH=implicit&REGION=us-east-1&AWS_ENDPOINT=http://127.0.0.1:9")
    assert static.inline_deadline and not role.inline_deadline and not implicit.inline_deadline


def test_an_interrupt_abandons_a_hung_inline_aws_call_at_once() -> None:
    import threading

    from engine.deadline import Cancelled, clear_interrupt, interrupt

    long = 30 * DEADLINE
    set_limits(Limits(kms_timeout=long))
    with HangServer() as server, open_kms(aws_uri(server.http)) as kms:
        kms.prepare()
        out: list[object] = []
        t = threading.Thread(target=lambda: out.append(elapsed(kms.encrypt, b"k" * 32)))
        t.start()
        while server.connections < 1:  # the request is in flight
            t.join(0.01)
        try:
            interrupt()
            t.join(long)
        finally:
            clear_interrupt()
    ((took, err),) = out  # type: ignore[misc]
    assert isinstance(err, Cancelled), err
    assert took < long / 3


def test_a_deadline_breaks_only_its_own_call() -> None:
    """A call whose deadline passes has its socket shut down; calls on other connections of the
    same client, still within theirs, are untouched (the watchdog breaks by call, not by pool)."""
    import threading

    from engine.deadline import DeadlineExceeded, InlineCall, call_inline, current_call

    seen: list[InlineCall | None] = []
    assert call_inline(lambda: seen.append(current_call()) or 7, 5.0) == 7
    assert seen[0] is not None and current_call() is None

    class Conn:
        def __init__(self) -> None:
            a, b = __import__("socket").socketpair()
            self.sock, self.peer = a, b

    hung, fine = Conn(), Conn()

    def hang() -> None:
        call = current_call()
        assert call is not None
        call.attach(hung)
        if not hung.sock.recv(1):  # b"" once the watchdog shuts the socket down
            raise ConnectionResetError("closed")  # as an SDK fails the attempt

    results: list[object] = []

    def other() -> None:
        def work() -> bytes:
            call = current_call()
            assert call is not None
            call.attach(fine)
            data = fine.sock.recv(1)  # answered after the other call was broken
            call.detach(fine)
            return data

        results.append(call_inline(work, 30.0))

    t = threading.Thread(target=other)
    t.start()
    took, err = elapsed(lambda: call_inline(hang, DEADLINE / 2))
    assert isinstance(err, DeadlineExceeded), err
    assert took < 5 * DEADLINE
    fine.peer.sendall(b"x")
    t.join(10)
    assert results == [b"x"]


class _Throttling:
    """A KMS endpoint that answers every call with ThrottlingException and asks the client to
    come back in 20 s (`x-amz-retry-after`, in ms): botocore's standard retry mode then sleeps
    its backoff, at least 5 s, with no socket open for a deadline to shut down."""

    def __enter__(self) -> str:
        import http.server
        import threading

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = b'{"__type":"ThrottlingException","message":"slow down"}'
                self.send_response(400)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("x-amz-retry-after", "20000")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_retry_backoff_ends_at_the_deadline() -> None:
    """The inline AWS call's deadline also bounds botocore's retry sleep (engine/kms/aws.py
    _BoundedBackoff); without it this call slept 5 s or more past a 1 s deadline."""
    with _Throttling() as endpoint, open_kms(aws_uri(endpoint)) as kms:
        set_limits(Limits(kms_timeout=30 * DEADLINE))
        kms.prepare()  # the client first, as the engine does before its pool
        set_limits(Limits(kms_timeout=DEADLINE))
        took, err = elapsed(kms.encrypt, b"k" * 32)
        assert isinstance(err, KMSError) and "timed out" in str(err), err
        assert took < 3 * DEADLINE  # a ratio of the setting, not an absolute time


def test_an_interrupt_between_checkout_and_connect_still_ends_the_call(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The race a fresh-clone CI run hit: the connection is registered with the call when it is
    taken from the pool, before it has a socket; an interrupt in that window found nothing to
    shut down, and the call then hung on the silent server until its read timeout (10 s). Here
    the interrupt is given exactly there (just before the socket is made)."""
    import botocore.awsrequest

    from engine.deadline import Cancelled, clear_interrupt, interrupt

    long = 30 * DEADLINE
    set_limits(Limits(kms_timeout=long))
    real_connect = botocore.awsrequest.AWSHTTPConnection.connect

    def interrupted_connect(self):  # type: ignore[no-untyped-def]
        interrupt()
        return real_connect(self)

    with HangServer() as server, open_kms(aws_uri(server.http)) as kms:
        kms.prepare()
        monkeypatch.setattr(botocore.awsrequest.AWSHTTPConnection, "connect", interrupted_connect)
        try:
            took, err = elapsed(kms.encrypt, b"k" * 32)
        finally:
            clear_interrupt()
    assert isinstance(err, Cancelled), err
    assert took < long / 3
