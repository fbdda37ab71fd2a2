"""Google credentials for both GCS storage and Cloud KMS (pkg/cloud/gcp: the same rules for
AUTH=implicit, CREDENTIALS, BEARER_TOKEN and ASSUME_ROLE impersonation). google.auth is imported
only when credentials are built."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class CredentialsError(Exception):
    """The URI's credentials cannot be used; callers wrap it with the (redacted) URI."""


def first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


def google_credentials(
    *,
    implicit: bool,
    service_account_info: dict[str, Any] | None,
    bearer_token: str | None,
    assume_role: str,
    delegates: Sequence[str],
    scopes: Sequence[str],
) -> Any:
    """Credentials for the URI: the default chain (implicit), a service-account key, or a static
    token; then, with ASSUME_ROLE, impersonation of the last account through the delegates."""
    import google.auth
    from google.auth import exceptions as auth_exceptions
    from google.auth import impersonated_credentials
    from google.oauth2 import credentials as oauth2_credentials
    from google.oauth2 import service_account

    try:
        if implicit:
            source, _ = google.auth.default(scopes=list(scopes))
        elif service_account_info is not None:
            try:
                source = service_account.Credentials.from_service_account_info(
                    service_account_info, scopes=list(scopes)
                )
            except (ValueError, KeyError, TypeError) as e:
                raise CredentialsError(
                    f"error getting credentials from CREDENTIALS: {type(e).__name__}: {first_line(e)}"
                ) from None
        else:
            source = oauth2_credentials.Credentials(token=bearer_token)
    except auth_exceptions.GoogleAuthError as e:
        raise CredentialsError(f"no Google credentials: {first_line(e)}") from None
    if not assume_role:
        return source
    return impersonated_credentials.Credentials(
        source_credentials=source,
        target_principal=assume_role,
        target_scopes=list(scopes),
        delegates=list(delegates) or None,
    )
