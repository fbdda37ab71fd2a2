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

MasterKeyID is the key *name* only; the version is pinned for encrypt/decrypt (Key Vault
encrypt/decrypt, RSA-OAEP-256, with azure-keyvault-keys in a later issue; PlannedKMS for now).
"""

from __future__ import annotations

from types import MappingProxyType

from .base import KMS, KMSEnv, KMSError, KMSURI, KMSUnsupportedError, checked_key_id
from .gourl import GoURL, go_quote
from .params import AUTH_IMPLICIT, AUTH_PARAM, AUTH_SPECIFIED, ConsumeURL, unsupported_auth
from .planned import PlannedKMS
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

# go-autorest autorest/azure/environments.go: upper-cased name -> KeyVaultDNSSuffix.
KEY_VAULT_DNS_SUFFIX = {
    "AZURECHINACLOUD": "vault.azure.cn",
    "AZUREGERMANCLOUD": "vault.microsoftazure.de",
    "AZURECLOUD": "vault.azure.net",
    "AZUREPUBLICCLOUD": "vault.azure.net",
    "AZUREUSGOVERNMENT": "vault.usgovcloudapi.net",
    "AZUREUSGOVERNMENTCLOUD": "vault.usgovcloudapi.net",
}


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
    suffix = KEY_VAULT_DNS_SUFFIX.get(env_name)
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
    return KMSURI(
        uri=uri,
        scheme=url.scheme,
        master_key_id=key_name,
        key_ids=(key_name,),
        write_key_ids=(key_name,),
        params=MappingProxyType(dict(q.consumed)),
        derived=MappingProxyType(derived),
    )


def open_kms(parsed: KMSURI, env: KMSEnv) -> KMS:
    return PlannedKMS(parsed)
