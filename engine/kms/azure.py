"""Azure Key Vault URIs: `azure-kms:///<keyName>/<keyVersion>?AZURE_VAULT_NAME=...&...`.

Rules from cockroachdb/cockroach `pkg/cloud/azure/azure_kms.go` (MakeAzureKMS, commit 2a9cb895)
and `azure_storage.go` (azureAuthMethod, param names), in CockroachDB's order:
1. path exactly "/" -> `path component of the KMS cannot be empty; must contain the Customer
   Managed Key`;
2. AUTH (consumed first): "" / specified is explicit RBAC unless AZURE_ACCOUNT_KEY is present
   (legacy shared key) -> `azure kms requires explicit auth (RBAC) or implicit auth`;
   implicit; else `unsupported value X for AUTH`. With AUTH=implicit AZURE_ACCOUNT_KEY is
   simply an unknown param;
3. consumed: AZURE_VAULT_NAME, AZURE_ENVIRONMENT, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET,
   AZURE_TENANT_ID; leftovers are unknown;
4. missing, in this order: vault name, then (explicit) client id, client secret, tenant id ->
   `kms URI expected but did not receive: A, B`;
5. implicit with client params -> `kms URI does not support: ...`. CockroachDB joins the
   *missing* list there (a bug: the list prints empty); we keep the headline and list the
   offending params, which is what the message means;
6. AZURE_ENVIRONMENT (default AzurePublicCloud) via go-autorest EnvironmentFromName: names are
   matched upper-cased; unknown -> `azure kms environment: autorest/azure: There is no cloud
   environment matching the name "X"`; vault URL `https://<vault>.<KeyVaultDNSSuffix>`;
   AzureStackCloud needs an environment file, which we do not read (clear error instead);
7. path must split into exactly two parts -> `azure kms key must be of form 'id/version'`.

MasterKeyID is the key *name* only; the version is pinned for encrypt/decrypt.

Calls (`azureKMS.Encrypt/Decrypt` in azure_kms.go): Key Vault encrypt / decrypt of the 32-byte
data key with RSA-OAEP-256 on `<vault>/keys/<name>/<version>`, through azure-keyvault-keys'
CryptographyClient (imported on first use). The SDK first tries `GET key` and then encrypts
locally with the public key (same RSA-OAEP-256 ciphertext format); a principal holding only the
encrypt/decrypt data actions CockroachDB documents gets 403 there and the SDK falls back to
the remote encrypt. Decrypt always goes to the vault. Credentials as CockroachDB: explicit ->
ClientSecretCredential (authority host of AZURE_ENVIRONMENT's cloud), implicit ->
DefaultAzureCredential (which also reads a workload-identity token file).

TEST-ONLY settings (KMSEnv, never from a URI): `azure_vault_url` replaces the vault URL (and
turns off the SDK's check that the challenge resource matches the vault host, which a
127.0.0.1 stand-in cannot pass), `azure_tls_ca` is the CA bundle to trust, `azure_login_host` replaces the Active
Directory login host of explicit credentials (e.g. https://127.0.0.1:PORT), `azure_credential`
replaces the credential ("static" from REWRAP_TEST_AZURE_CREDENTIAL = StaticTestCredential).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from .base import KMS, KMSEnv, KMSError, KMSURI, KMSUnsupportedError, checked_key_id
from engine.cloud.azure import azure_cloud
from engine.cloud.gourl import GoURL, go_quote
from .params import AUTH_IMPLICIT, AUTH_PARAM, AUTH_SPECIFIED, ConsumeURL, unsupported_auth
from syntax.uri import redact_uri as redact_kms_uri

VAULT_NAME = "AZURE_VAULT_NAME"
ENVIRONMENT = "AZURE_ENVIRONMENT"
CLIENT_ID = "AZURE_CLIENT_ID"
CLIENT_SECRET = "AZURE_CLIENT_SECRET"
TENANT_ID = "AZURE_TENANT_ID"
ACCOUNT_KEY = "AZURE_ACCOUNT_KEY"
EMPTY_PATH = (
    "path component of the KMS cannot be empty; must contain the Customer Managed Key"
)

def parse(uri: str, url: GoURL) -> KMSURI:
    redacted = redact_kms_uri(uri)
    if url.path == "/":
        raise KMSError(EMPTY_PATH, redacted)
    q = ConsumeURL(url)
    auth = q.consume(AUTH_PARAM)
    if auth in ("", AUTH_SPECIFIED):
        if q.get(ACCOUNT_KEY):
            raise KMSError("azure kms requires explicit auth (RBAC) or implicit auth", redacted)
        implicit = False
    elif auth == AUTH_IMPLICIT:
        implicit = True
    else:
        raise KMSError(unsupported_auth(auth), redacted)
    vault = q.consume(VAULT_NAME)
    environment = q.consume(ENVIRONMENT)
    creds = {name: q.consume(name) for name in (CLIENT_ID, CLIENT_SECRET, TENANT_ID)}
    unknown = q.unknown_params_error()
    if unknown:
        raise KMSError(unknown, redacted)
    missing = [] if vault else [VAULT_NAME]
    if not implicit:
        missing += [name for name, value in creds.items() if not value]
    if missing:
        raise KMSError(f"kms URI expected but did not receive: {', '.join(missing)}", redacted)
    extra = [name for name, value in creds.items() if value] if implicit else []
    if extra:
        raise KMSError(f"kms URI does not support: {', '.join(extra)}", redacted)
    env_name = (environment or "AzurePublicCloud").upper()
    if env_name == "AZURESTACKCLOUD":
        raise KMSUnsupportedError(
            "azure kms environment: AzureStackCloud needs an environment file "
            "(AZURE_ENVIRONMENT_FILEPATH), which rewrap does not read",
            redacted,
        )
    cloud = azure_cloud(env_name)
    suffix = cloud.key_vault_suffix if cloud is not None else None
    if suffix is None:
        raise KMSError(
            "azure kms environment: autorest/azure: There is no cloud environment matching "
            f"the name {go_quote(env_name)}",
            redacted,
        )
    tokens = url.path.removeprefix("/").split("/")
    if len(tokens) != 2:
        raise KMSError("azure kms key must be of form 'id/version'", redacted)
    key_name = checked_key_id(tokens[0], redacted)
    derived = {
        "vault_url": f"https://{vault}.{suffix}",
        "key_version": tokens[1],
        "auth": "implicit" if implicit else "explicit",
    }
    return KMSURI.for_key(uri, url.scheme, key_name, params=dict(q.consumed), derived=derived)


STATIC_TEST_CREDENTIAL = "static"


class StaticTestCredential:
    """TEST ONLY: a TokenCredential that hands out a fixed fake token, for the fake Key Vault.

    Selected only by KMSEnv.azure_credential == "static" (REWRAP_TEST_AZURE_CREDENTIAL=static);
    no URI can select it, and a real vault rejects its token.
    """

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken("rewrap-static-test-token", int(time.time()) + 3600)

    def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        from azure.core.credentials import AccessTokenInfo

        return AccessTokenInfo("rewrap-static-test-token", int(time.time()) + 3600)


class AzureKMS(KMS):
    """One Key Vault key version; the SDK client is built on the first call and reused."""

    def __init__(self, parsed: KMSURI, env: KMSEnv) -> None:
        super().__init__(parsed)
        self._env = env
        self.vault_url = (env.azure_vault_url or parsed.derived["vault_url"]).rstrip("/")
        self.key_version = parsed.derived["key_version"]
        self.key_id = f"{self.vault_url}/keys/{self.master_key_id}" + (
            f"/{self.key_version}" if self.key_version else ""
        )
        self._client: Any = None
        self._lock = threading.Lock()
        self.login_host = self._login_host()
        self.endpoint = self.vault_url + (
            f" (or its login host {self.login_host})" if self.login_host else ""
        )

    def _login_host(self) -> str:
        """Where explicit credentials get their token (None for injected / implicit ones)."""
        if self._env.azure_credential is not None or self.parsed.derived["auth"] == "implicit":
            return ""
        if self._env.azure_login_host:
            return self._env.azure_login_host
        cloud = azure_cloud(self.parsed.params.get(ENVIRONMENT))
        return "https://" + (cloud.login_host if cloud is not None else "login.microsoftonline.com")

    def _build_client(self) -> Any:
        return self._crypto()

    def _crypto(self) -> Any:
        client = self._client  # built once, then shared lock-free
        if client is not None:
            return client
        with self._lock:
            if self._client is None:
                from engine.sdklog import quiet_sdk_logging

                quiet_sdk_logging()
                from azure.keyvault.keys.crypto import CryptographyClient

                kwargs: dict[str, Any] = dict(
                    retry_total=4, retry_connect=2, retry_read=2, retry_status=4,
                    retry_backoff_factor=0.5, retry_backoff_max=8,
                    connection_timeout=10, read_timeout=10,
                )
                if self._env.azure_vault_url:
                    # test-only vault on 127.0.0.1: its challenge names vault.azure.net
                    kwargs["verify_challenge_resource"] = False
                if self._env.azure_tls_ca:
                    kwargs["connection_verify"] = self._env.azure_tls_ca
                self._client = CryptographyClient(self.key_id, self._credential(), **kwargs)
            return self._client

    def _credential(self) -> Any:
        injected = self._env.azure_credential
        if injected == STATIC_TEST_CREDENTIAL:
            return StaticTestCredential()
        if injected is not None:
            if not hasattr(injected, "get_token"):
                raise KMSError(
                    f"test setting azure_credential must be {STATIC_TEST_CREDENTIAL!r} or a "
                    "TokenCredential",
                    self.redacted_uri,
                )
            return injected
        params = self.parsed.params
        if self.parsed.derived["auth"] == "implicit":
            from azure.identity import DefaultAzureCredential

            return DefaultAzureCredential()
        from azure.identity import ClientSecretCredential

        kwargs: dict[str, Any] = {}
        if self._env.azure_tls_ca:
            kwargs["connection_verify"] = self._env.azure_tls_ca
        if self._env.azure_login_host:
            # test-only host: msal would otherwise ask the public cloud whether it is an authority
            kwargs["disable_instance_discovery"] = True
        return ClientSecretCredential(
            params[TENANT_ID], params[CLIENT_ID], params[CLIENT_SECRET], authority=self.login_host,
            **kwargs,
        )

    def encrypt(self, plaintext: bytes) -> bytes:
        from azure.keyvault.keys.crypto import EncryptionAlgorithm

        def run() -> Any:
            try:
                return self._crypto().encrypt(EncryptionAlgorithm.rsa_oaep_256, bytes(plaintext))
            except Exception as e:  # noqa: BLE001 - mapped to KMSError
                raise self._error("encrypt", e) from None

        return bytes(self.call("azure kms encrypt", run, self._describe).ciphertext)

    def decrypt(self, ciphertext: bytes) -> bytes:
        from azure.keyvault.keys.crypto import EncryptionAlgorithm

        def run() -> Any:
            try:
                return self._crypto().decrypt(EncryptionAlgorithm.rsa_oaep_256, bytes(ciphertext))
            except Exception as e:  # noqa: BLE001 - mapped to KMSError
                raise self._error("decrypt", e) from None

        return bytes(self.call("azure kms decrypt", run, self._describe).plaintext)

    @staticmethod
    def _describe(e: Exception) -> str:
        return f"{type(e).__name__}: {e}"

    def _error(self, op: str, e: Exception) -> KMSError:
        """A KMSError naming the key, the vault and the cause; never the client secret."""
        if isinstance(e, KMSError):
            return e
        from azure.core.exceptions import (
            ClientAuthenticationError,
            HttpResponseError,
            ResourceNotFoundError,
            ServiceRequestError,
            ServiceResponseError,
        )

        key = f"key {self.master_key_id}/{self.key_version} in {self.vault_url}"
        detail = self._first_line(e)
        if isinstance(e, ResourceNotFoundError):
            cause = f"{key} not found ({detail})"
        elif isinstance(e, ClientAuthenticationError):
            via = f" (login host {self.login_host})" if self.login_host else ""
            cause = f"authentication to {self.vault_url}{via} failed: {detail}"
        elif isinstance(e, HttpResponseError) and e.status_code:
            error = getattr(e, "error", None)
            code = getattr(error, "code", None) or getattr(e, "error_code", None) or e.reason or ""
            detail = detail.removeprefix(f"({code}) ")
            cause = f"{key}: HTTP {e.status_code} {code}: {detail}"
        elif isinstance(e, (ServiceRequestError, ServiceResponseError)):
            cause = f"cannot reach {self.vault_url}: {detail}"
        else:
            cause = f"{key}: {type(e).__name__}: {detail}"
        return KMSError(f"azure kms {op} failed: {cause}", self.redacted_uri)

    def _first_line(self, e: Exception) -> str:
        lines = (getattr(e, "message", None) or str(e) or "").strip().splitlines()
        # Key Vault errors read "(Code) message"; keep the first line only.
        line = lines[0] if lines else type(e).__name__
        secret = self.parsed.params.get(CLIENT_SECRET)
        if secret:
            line = line.replace(secret, "redacted")
        return line[:300]

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except Exception:  # noqa: BLE001 - best effort
                pass


def open_kms(parsed: KMSURI, env: KMSEnv) -> KMS:
    return AzureKMS(parsed, env)
