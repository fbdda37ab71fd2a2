"""The KMS interface every provider implements, its validated URI value and its errors.

CockroachDB's interface (pkg/cloud/kms.go, newest): `MasterKeyID() string`, `Encrypt`, `Decrypt`,
`Close`. ENCRYPTION-INFO maps sha256(MasterKeyID) to the data key wrapped by that KMS, so the id
string is what makes a URI match a backup; it is computed from the URI alone, never from a call.

Key id forms (`key_ids` for readers, `write_key_ids` for writers), looked up in
cockroachdb/cockroach:
- mainline `pkg/backup/backupencryption/encryption.go` (commit 200d56f7, Dec 2024 or later: it
  carries `nolint:deferloop TODO(#137605)`) reads and writes only sha256(MasterKeyID()); the
  mainline `pkg/backup/backup_test.go` (commit ab0193cb) testKMS has MasterKeyID() only.
- `MasterKeyID24_3Compatible()` / `ReplicaIDs()` exist only in commits 0d86f1ad (encryption.go)
  and 008feb0e (backup_test.go), i.e. the branch of PR #136249 "Support AWS KMS replicas", which
  was closed unmerged (2025-05-02). No real provider implements them in mainline.
So `write_key_ids` is `(master_key_id,)` for every scheme: writing an extra "-24_3" entry would
add bytes CockroachDB never writes. `key_ids` is the master id first, plus for testkms the
`TEST_REPLICA_IDS` values (the PR branch's testKMS.ReplicaIDs(), harmless because the param is
opt-in). The "-24_3" form is not looked up: even the PR branch's reader never looks it up (it
reads ReplicaIDs() only) and its writer also stored the plain master id.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType, TracebackType
from typing import TypeVar

from engine.errors import RewrapError, UnsupportedError
from engine.settings import limits, test_settings_from_env

from syntax.uri import is_secret_param
from syntax.uri import redact_uri as redact_kms_uri


class KMSError(RewrapError):
    """A KMS URI that failed: `cause` keeps CockroachDB's text, `redacted_uri` says which URI."""

    def __init__(self, cause: str, redacted_uri: str | None = None) -> None:
        self.cause = cause
        self.redacted_uri = redacted_uri
        message = cause if redacted_uri is None else f"{cause} (KMS URI '{redacted_uri}')"
        super().__init__(message)


class KMSUnsupportedError(KMSError, UnsupportedError):
    """A valid KMS request rewrap cannot carry out (e.g. external:// connections need a cluster)."""


@dataclass(frozen=True)
class KMSEnv:
    """Test-only injection points for the two KMS services a URI cannot point elsewhere.

    AWS KMS takes AWS_ENDPOINT in the URI; Cloud KMS and Key Vault have no such parameter, so
    tests reach their local stand-ins through these fields. Nothing here can ever be set from a
    URI: a URI names a key and credentials, never where our process sends them, so a pasted URI
    cannot redirect key traffic. Production code leaves every field None.
    """

    gcp_kms_endpoint: str | None = None
    """host:port of a plaintext (insecure) gRPC Cloud KMS server, e.g. a test fake."""

    azure_vault_url: str | None = None
    """Replaces https://<AZURE_VAULT_NAME>.<vault DNS suffix>, e.g. https://127.0.0.1:PORT."""

    azure_tls_ca: str | None = None
    """PEM file of the CA that signed the Key Vault stand-in's certificate."""

    azure_login_host: str | None = None
    """Replaces https://<AD login host> of explicit (client secret) credentials."""

    azure_credential: object | None = None
    """An azure.core TokenCredential to use instead of the one the URI's params describe."""

    @classmethod
    def from_env(cls) -> KMSEnv:
        """Test settings from REWRAP_TEST_<FIELD> environment variables (e.g.
        REWRAP_TEST_GCP_KMS_ENDPOINT), for end-to-end tests that drive the `rewrap` command."""
        return cls(**test_settings_from_env(cls))


@dataclass(frozen=True, repr=False)
class KMSURI:
    """A KMS URI validated with CockroachDB's rules, without opening anything.

    `params` are the consumed query params (first value each, as Go's Values.Get), which may
    hold secrets: never print them; `repr` shows only the redacted URI.
    """

    uri: str
    scheme: str
    master_key_id: str
    key_ids: tuple[str, ...]
    write_key_ids: tuple[str, ...]
    params: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    derived: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def for_key(
        cls,
        uri: str,
        scheme: str,
        key_id: str,
        *,
        params: Mapping[str, str] | None = None,
        derived: Mapping[str, str] | None = None,
        replica_ids: tuple[str, ...] = (),
    ) -> KMSURI:
        """The usual shape: one master key id, written under itself, read as itself (plus any
        replica ids a reader may also look up)."""
        return cls(
            uri=uri,
            scheme=scheme,
            master_key_id=key_id,
            key_ids=(key_id, *(r for r in replica_ids if r != key_id)),
            write_key_ids=(key_id,),
            params=MappingProxyType(dict(params or {})),
            derived=MappingProxyType(dict(derived or {})),
        )

    @property
    def redacted_uri(self) -> str:
        return redact_kms_uri(self.uri)

    def __repr__(self) -> str:
        return f"KMSURI({self.redacted_uri!r}, master_key_id={self.master_key_id!r})"


T = TypeVar("T")


class KMS(abc.ABC):
    """One KMS master key, opened from a URI. Use as a context manager or call close().

    Providers that talk to a service run each SDK call through `call`: a whole-call deadline
    (engine.settings.Limits.kms_timeout), abandoned at once on Ctrl-C, and every error text
    scrubbed of the URI's secrets and echoed credential headers before anyone sees it.
    """

    endpoint: str = ""
    """Where calls go (a URL or host:port), named in timeout errors; set by providers."""

    def __init__(self, parsed: KMSURI) -> None:
        self.parsed = parsed
        self.uri: str = parsed.uri
        self.scheme: str = parsed.scheme
        self.redacted_uri: str = parsed.redacted_uri
        self.master_key_id: str = parsed.master_key_id
        self.key_ids: tuple[str, ...] = parsed.key_ids
        self.write_key_ids: tuple[str, ...] = parsed.write_key_ids
        self._timed_out: str | None = None

    def secrets(self) -> tuple[str, ...]:
        """Secret values this KMS knows (from its URI), scrubbed from every error text."""
        from engine.scrub import uri_secrets

        return uri_secrets(self.uri) + tuple(
            v for k, v in self.parsed.params.items() if v and is_secret_param(k)
        )

    def scrub(self, text: str) -> str:
        from engine.scrub import scrub_text

        return scrub_text(text, self.secrets())

    def call(self, op: str, fn: Callable[[], T], describe: Callable[[Exception], str]) -> T:
        """fn() within the KMS deadline. An SDK error becomes a KMSError `<op>: describe(e)`,
        scrubbed; no answer in time is a KMSError naming the endpoint and the deadline, and
        later calls of this KMS fail at once instead of waiting again."""
        from engine.deadline import DeadlineExceeded, call_inline, call_with_deadline

        if self._timed_out:
            raise KMSError(self._timed_out, self.redacted_uri)
        seconds = limits().kms_timeout
        run = call_inline if self.inline_deadline and self._client_ready() else call_with_deadline
        try:
            return run(fn, seconds, what=f"KMS {op}")
        except DeadlineExceeded:
            where = self.endpoint or self.scheme
            self._timed_out = (
                f"{op}: not tried: an earlier call to {where} got no answer within {seconds:g} s"
            )
            raise KMSError(
                f"{op}: timed out: no answer from {where} within {seconds:g} s "
                "(KMS deadline; see --kms-timeout)",
                self.redacted_uri,
            ) from None
        except KMSError as e:
            raise KMSError(self.scrub(e.cause), e.redacted_uri) from None
        except RewrapError:
            raise  # Cancelled
        except Exception as e:  # noqa: BLE001 - SDK errors, mapped by the provider
            raise KMSError(self.scrub(f"{op}: {describe(e)}"), self.redacted_uri) from None

    def prepare(self) -> None:
        """Build the SDK client now, before a pool of workers starts calling (they would all
        wait for the first one to import the SDK and build it). Never raises: a client that
        cannot be built fails the first real call with its own error, as before."""
        build = self._build_client
        if build is None:
            return
        from engine.deadline import call_with_deadline

        try:
            call_with_deadline(build, limits().kms_timeout, what="KMS client")
        except Exception:  # noqa: BLE001 - reported by the first call that needs the client
            pass

    _build_client: Callable[[], object] | None = None
    """Providers with a lazily built client set this to the method that builds (and caches) it."""

    inline_deadline: bool = False
    """True for a provider whose SDK client is hooked for engine.deadline.call_inline: its calls
    then run in the caller's thread, once `_client_ready()` (a client still to be built, which
    may import the SDK or call other services, goes through the helper thread)."""

    def _client_ready(self) -> bool:
        return False

    @abc.abstractmethod
    def encrypt(self, plaintext: bytes) -> bytes:
        """Wrap a data key under this master key."""

    @abc.abstractmethod
    def decrypt(self, ciphertext: bytes) -> bytes:
        """Unwrap a data key; raise KMSError rather than return a wrong key."""

    def close(self) -> None:
        """Release clients; idempotent."""

    def __enter__(self) -> KMS:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.redacted_uri!r})"


def checked_key_id(key_id: str, redacted_uri: str) -> str:
    """The key id, refused when its percent-decoded bytes are not UTF-8.

    Go hashes the raw bytes of URL.Path; a Python str cannot carry invalid UTF-8 through
    `.encode()`, so such an id could never be matched byte for byte. No real key id has them.
    """
    try:
        key_id.encode("utf-8")
    except UnicodeEncodeError:
        raise KMSError("the KMS key id is not valid UTF-8 after percent-decoding", redacted_uri)
    return key_id
