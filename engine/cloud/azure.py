"""Azure clouds, shared by Blob storage and Key Vault KMS.

go-autorest autorest/azure/environments.go (which CockroachDB uses): per cloud name (upper-cased)
the storage endpoint suffix, the Key Vault DNS suffix and the Active Directory login host used
for client-secret tokens.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AzureCloud:
    storage_suffix: str
    key_vault_suffix: str
    login_host: str


_PUBLIC = AzureCloud("core.windows.net", "vault.azure.net", "login.microsoftonline.com")
_US_GOV = AzureCloud("core.usgovcloudapi.net", "vault.usgovcloudapi.net", "login.microsoftonline.us")

CLOUDS: dict[str, AzureCloud] = {
    "AZURECHINACLOUD": AzureCloud("core.chinacloudapi.cn", "vault.azure.cn", "login.chinacloudapi.cn"),
    "AZUREGERMANCLOUD": AzureCloud("core.cloudapi.de", "vault.microsoftazure.de", "login.microsoftonline.de"),
    "AZURECLOUD": _PUBLIC,
    "AZUREPUBLICCLOUD": _PUBLIC,
    "AZUREUSGOVERNMENT": _US_GOV,
    "AZUREUSGOVERNMENTCLOUD": _US_GOV,
}
DEFAULT_CLOUD = "AzurePublicCloud"


def azure_cloud(name: str | None) -> AzureCloud | None:
    """The cloud named by AZURE_ENVIRONMENT (default public), or None for an unknown name."""
    return CLOUDS.get((name or DEFAULT_CLOUD).upper())
