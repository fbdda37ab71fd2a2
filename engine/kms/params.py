"""Query-param consumption exactly as CockroachDB's `cloud.ConsumeURL` (pkg/cloud/uris.go).

Each provider "consumes" the params it knows (first value, Go's Values.Get; every value of that
name is removed); whatever is left, except `COCKROACH_LOCALITY`, is an error:
`unknown KMS query parameters: A, B`. Go joins the leftovers in map-iteration order, which is
random; we sort them so the text is stable (the set of names is the same).
"""

from __future__ import annotations

from engine.cloud.gourl import GoURL

AUTH_PARAM = "AUTH"
AUTH_SPECIFIED = "specified"
AUTH_IMPLICIT = "implicit"
LOCALITY_PARAM = "COCKROACH_LOCALITY"


class ConsumeURL:
    """The query values of one URL, consumed param by param."""

    def __init__(self, url: GoURL) -> None:
        self.url = url
        self._values = url.query()
        self.consumed: dict[str, str] = {}

    def get(self, name: str) -> str:
        """Read without consuming (CockroachDB's `uri.Query().Get(name)`)."""
        values = self.url.query().get(name)
        return values[0] if values else ""

    def consume(self, name: str) -> str:
        values = self._values.pop(name, None)
        value = values[0] if values else ""
        if value:
            self.consumed[name] = value
        return value

    def remaining(self) -> list[str]:
        return sorted(name for name in self._values if name != LOCALITY_PARAM)

    def unknown_params_error(self) -> str | None:
        """CockroachDB's leftover check, or None when every param was consumed."""
        left = self.remaining()
        if left:
            return f"unknown KMS query parameters: {', '.join(left)}"
        return None


def unsupported_auth(value: str) -> str:
    return f"unsupported value {value} for {AUTH_PARAM}"


def parse_role_chain(value: str) -> tuple[str, tuple[str, ...]]:
    """ASSUME_ROLE: comma-separated chain; the last entry is the target, earlier ones delegates.

    cloud.ParseRoleString / ParseRoleProvidersString (pkg/cloud/uris.go). AWS entries may carry
    `;external_id=<id>`, kept verbatim here for the AWS client to split.
    """
    if not value:
        return "", ()
    roles = value.split(",")
    return roles[-1], tuple(roles[:-1])
