"""syntax/catalog.py's KMS parameter sets must be exactly what engine/kms accepts.

syntax/ may not import the engine, so the catalog is a second copy of the parameter names; this
test asks the engine, param by param, whether it would report the name as unknown. The
candidates are every name the catalog knows for any scheme, every secret param, and every
upper-case string constant of the engine's provider modules, so a param added on either side
(or removed) fails here.
"""

from __future__ import annotations

import pytest

from engine.kms import KMSError, parse_kms_uri
from engine.kms import aws, azure, gcp, params
from syntax import catalog
from syntax.uri import SECRET_PARAMS


def _candidates() -> set[str]:
    names = set(SECRET_PARAMS) | {"NOT_A_PARAM", catalog.LOCALITY_PARAM}
    for table in (catalog.KMS_SCHEMES, catalog.STORAGE_SCHEMES):
        for scheme in table.values():
            names |= scheme.param_names
    for module in (aws, azure, gcp, params):
        for value in vars(module).values():
            if isinstance(value, str) and value.isupper() and value.replace("_", "").isalpha():
                names.add(value)
    return names


CANDIDATES = sorted(_candidates())
CHECKED = [s for s in catalog.KMS_SCHEMES.values() if not s.any_params]


def engine_accepts(scheme: str, name: str) -> bool:
    """False only when the engine reports `name` as an unknown query parameter."""
    value = "implicit" if name == "AUTH" else "x"
    extra = "" if name == "AUTH" else "&AUTH=implicit"
    uri = f"{scheme}:///key/version?{name}={value}{extra}"
    try:
        parse_kms_uri(uri)
    except KMSError as e:
        if e.cause.startswith("unknown KMS query parameters:"):
            return name not in e.cause.split(":", 1)[1].replace(" ", "").split(",")
    return True


def test_candidates_cover_the_engine_constants() -> None:
    assert {"REGION", "AZURE_VAULT_NAME", "CREDENTIALS", "ASSUME_ROLE"} <= set(CANDIDATES)


@pytest.mark.parametrize("scheme", CHECKED, ids=lambda s: s.name)
def test_kms_params_match_engine(scheme: catalog.Scheme) -> None:
    accepted_by_engine = {n for n in CANDIDATES if engine_accepts(scheme.name, n)}
    catalog_names = scheme.param_names | {catalog.LOCALITY_PARAM}
    assert accepted_by_engine == catalog_names


def test_kms_schemes_match_engine_registry() -> None:
    from engine.kms.registry import PROVIDERS

    assert set(catalog.KMS_SCHEMES) == set(PROVIDERS)


def test_testkms_accepts_anything_in_both() -> None:
    assert catalog.KMS_SCHEMES["testkms"].any_params
    assert engine_accepts("testkms", "NOT_A_PARAM")


def test_redaction_knows_exactly_which_params_are_public() -> None:
    """syntax.uri redacts every value but those of PUBLIC_PARAMS: each catalog param must be
    either secret there or public, so no known secret is shown and no known public value hidden."""
    from syntax.uri import PUBLIC_PARAMS, SECRET_PARAMS

    for scheme in [*catalog.KMS_SCHEMES.values(), *catalog.STORAGE_SCHEMES.values()]:
        for p in scheme.params:
            if p.secret:
                assert p.name in SECRET_PARAMS and p.name not in PUBLIC_PARAMS, p.name
            else:
                assert p.name in PUBLIC_PARAMS, f"{scheme.name}: {p.name} missing from PUBLIC_PARAMS"
