"""Live diagnostics with positions: what is wrong with a script before it runs.

Run on every keystroke, so it never raises and does only static work: syntax errors (the
parser's, as values), URI schemes and parameters checked against syntax/catalog.py with
CockroachDB's texts, duplicate options, ALTER/SHOW pointed at an incremental, and repeated ADD
clauses (refused, as the engine refuses them). A syntax error says what the grammar expected
there. Everything comes from one walk of each statement (syntax/parser.py). Anything needing the engine (the full KMS rules, opening storage) comes through the
optional checker callables, which return CockroachDB's message or None.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from syntax import catalog
from syntax.parser import (
    BACKUP,
    KMS,
    KMS_ROLES,
    OLD_KMS,
    RETIRED_KMS,
    STORAGE_ROLES,
    SUBDIR,
    Slot,
    Walk,
    bare_word,
    walk,
)
from syntax.rules import repeated_add_message
from syntax.split import pieces
from syntax.tokens import Token, TokenKind, decode_with_offsets, looks_like_uri
from syntax.uri import ParsedURI, parse_uri, redact_uri

Severity = Literal["error", "warning"]
Checker = Callable[[str], "str | None"]


@dataclass(frozen=True)
class Diagnostic:
    """A problem at text[start:end]; `code` names the rule (stable, for tests and filters)."""

    start: int
    end: int
    severity: Severity
    message: str
    code: str


# A full backup subdir (/2006/01/02-150405.00) followed by an incremental level
# (/20060102/150405.00[-...]): CockroachDB's pkg/backup/backupbase DateBasedIntoFolderName and
# DateBasedIncFolderName.
_FULL_THEN_INC = re.compile(r"\d{4}/\d{2}/\d{2}-\d{6}\.\d{2}/+\d{8}/\d{6}\.\d{2}")
_GO_BOOLS = frozenset("1 t T TRUE true True 0 f F FALSE false False".split())  # strconv.ParseBool


def diagnose(
    text: str,
    *,
    check_kms_uri: Checker | None = None,
    check_storage_uri: Checker | None = None,
) -> list[Diagnostic]:
    """Every diagnostic of `text`, in text order. Never raises (a checker that raises is
    treated as having nothing to say)."""
    try:
        return diagnose_strict(text, check_kms_uri=check_kms_uri, check_storage_uri=check_storage_uri)
    except Exception:  # noqa: BLE001 - a diagnostics bug must never break typing
        return []


def diagnose_strict(
    text: str,
    *,
    check_kms_uri: Checker | None = None,
    check_storage_uri: Checker | None = None,
) -> list[Diagnostic]:
    """`diagnose` without its safety net, so tests see our own bugs."""
    out: list[Diagnostic] = []
    for piece in pieces(text):
        if piece.tokens:
            _statement(text, piece.tokens, out, check_kms_uri, check_storage_uri)
    out.sort(key=lambda d: (d.start, d.end))
    return out


def _statement(
    text: str,
    toks: Sequence[Token],
    out: list[Diagnostic],
    check_kms: Checker | None,
    check_storage: Checker | None,
) -> None:
    w = walk(text, toks)
    e = w.syntax_error  # a repeated option is reported below, each one
    if e is not None:
        end = next((t.end for t in toks if t.start == e.position), e.position)
        expected = e.expected_text()
        message = f"{e.message}: {expected}" if expected else e.message
        out.append(Diagnostic(e.position, end, "error", message, "syntax"))
    for slot in w.slots:
        _slot(slot, out, check_kms, check_storage)
    seen: set[str] = set()
    for key, tok in w.options:
        if key in seen:
            label = "skip size" if key == "skip_size" else key
            out.append(Diagnostic(tok.start, tok.end, "error",
                                  f"{label} option specified multiple times", "duplicate-option"))
        seen.add(key)
    _retired_remaining(w, out)
    if len(w.adds) > 1:  # the engine refuses the statement: so do we, on every extra clause
        message = repeated_add_message(len(w.adds))
        for start, end in w.adds[1:]:
            out.append(Diagnostic(start, end, "error", message, "repeated-add"))


def _retired_remaining(w: Walk, out: list[Diagnostic]) -> None:
    """SHOW KMS RETIREMENT: the key to retire cannot prove itself retirable, so listing it among
    the remaining keys is an error (the engine also compares key ids, which needs the KMS rules)."""
    old = [s for s in w.slots if s.role == RETIRED_KMS]
    if not old or (got := _slot_value(old[0].token)) is None:
        return
    for slot in w.slots:
        if slot.role == KMS and slot.clause == "KMS" and (v := _slot_value(slot.token)) and v[0] == got[0]:
            out.append(Diagnostic(
                slot.token.start, slot.token.end, "error",
                "the key to retire is listed among the remaining keys: WITH KMS names the keys "
                "that stay", "retired-key-remaining",
            ))


def _slot_value(tok: Token) -> tuple[str, Sequence[int]] | None:
    """The value of a string or bare-word slot and, per character (plus one past the end), its
    offset in the token's text."""
    if tok.kind is TokenKind.STRING:
        try:
            return decode_with_offsets(tok.text)
        except ValueError:
            return None
    word = bare_word(tok)
    if word is not None:
        return word, range(len(word) + 1)
    return None


def _safe(check: Checker | None, value: str) -> str | None:
    if check is None:
        return None
    try:
        msg = check(value)
    except Exception:  # noqa: BLE001 - a checker's failure is not the user's error
        return None
    return msg if isinstance(msg, str) and msg else None


def _slot(
    slot: Slot, out: list[Diagnostic], check_kms: Checker | None, check_storage: Checker | None
) -> None:
    got = _slot_value(slot.token)
    if got is None:
        return
    value, offs = got
    tok = slot.token
    before = len(out)
    if slot.role == SUBDIR:
        _incremental(value, tok, "subdirectory", slot.clause, out)
    elif slot.role in KMS_ROLES:
        severity: Severity = "warning" if slot.role == OLD_KMS else "error"
        _UriCheck(value, offs, tok, severity, out, slot.clause).kms()
        if len(out) == before:
            msg = _safe(check_kms, value)
            if msg:
                out.append(Diagnostic(tok.start, tok.end, severity, msg, "kms-check"))
    elif slot.role in STORAGE_ROLES:
        _UriCheck(value, offs, tok, "error", out, slot.clause).storage()
        if slot.role == BACKUP and len(out) == before:
            _incremental(parse_uri(value).path, tok, "backup URI", slot.clause, out)
        if len(out) == before:
            msg = _safe(check_storage, value)
            if msg:
                out.append(Diagnostic(tok.start, tok.end, "error", msg, "storage-check"))


def _incremental(path: str, tok: Token, what: str, clause: str, out: list[Diagnostic]) -> None:
    """Warn when a subdir (or a full-backup URI's path) names an incremental layer."""
    parts = [p for p in path.split("/") if p]
    if "incrementals" in parts or _FULL_THEN_INC.search(path):
        stmt = "ALTER BACKUP" if clause == "ALTER BACKUP" else "SHOW BACKUP"
        out.append(Diagnostic(
            tok.start, tok.end, "warning",
            f"this {what} looks like an incremental backup; {stmt} needs the full backup's "
            "subdirectory (incrementals share its ENCRYPTION-INFO and are found from it)",
            "incremental-path",
        ))


class _UriCheck:
    """Static checks of one URI value, placing each finding on the characters it is about."""

    def __init__(self, value: str, offs: Sequence[int], tok: Token, severity: Severity,
                 out: list[Diagnostic], clause: str) -> None:
        self.value = value
        self.offs = offs
        self.tok = tok
        self.severity = severity
        self.out = out
        self.clause = clause

    def add(self, a: int, b: int, message: str, code: str, severity: Severity | None = None) -> None:
        """A diagnostic over value[a:b] (the whole literal when the range is empty)."""
        if b > a:
            start, end = self.tok.start + self.offs[a], self.tok.start + self.offs[b]
        else:
            start, end = self.tok.start, self.tok.end
        self.out.append(Diagnostic(start, end, severity or self.severity, message, code))

    def whole(self, message: str, code: str) -> None:
        self.add(0, 0, message, code)

    # --- the two kinds of URI --------------------------------------------------------------

    def kms(self) -> None:
        v = self.value
        m = re.match(r"([A-Za-z][A-Za-z0-9+.\-]*):", v)
        if m is None or not v[m.end():].startswith("/"):
            # Go's url.ParseRequestURI (pkg/cloud/kms.go KMSFromURI): not an absolute URI.
            note = " (CockroachDB skips OLD_KMS entries it cannot use)" if self.clause == "OLD_KMS" else ""
            self.whole(f'parse "{redact_uri(v)}": invalid URI for request{note}', "invalid-uri")
            return
        parsed = parse_uri(v)
        scheme = catalog.kms_scheme(parsed.scheme)
        if scheme is None:
            self.add(0, m.end() - 1, f"no factory method found for scheme {parsed.scheme}",
                     "unknown-scheme")
            return
        self.params(parsed, scheme)
        if "://" in v:
            self.kms_path(parsed, scheme)

    def storage(self) -> None:
        v = self.value
        if not looks_like_uri(v):
            m = re.match(r"([A-Za-z][A-Za-z0-9+.\-]*):", v)
            shown = m.group(1).lower() if m else ""
            self.whole(
                f'unsupported storage scheme: "{shown}" - refer to docs to find supported '
                "storage schemes",
                "unknown-scheme",
            )
            return
        parsed = parse_uri(v)
        scheme = catalog.storage_scheme(parsed.scheme)
        if scheme is None:
            self.add(0, v.index("://"),
                     f'unsupported storage scheme: "{parsed.scheme}" - refer to docs to find '
                     "supported storage schemes",
                     "unknown-scheme")
            return
        self.params(parsed, scheme)
        host_a, host_b = self.host_span()
        host = v[host_a:host_b]
        if scheme.name == "s3" and not host:
            self.whole("empty host component; s3 URI must specify a target bucket", "missing-host")
        elif scheme.name == "nodelocal":
            # pkg/cloud/nodelocal: the host is a node id or `self` (also engine/storage).
            if not host:
                self.whole(
                    "host component of nodelocal URI must be a node ID (use 'self' to specify "
                    "each node should access its own local filesystem)", "bad-host")
            elif host != "self" and not host.isdigit():
                self.add(host_a, host_b,
                         f"host component of nodelocal URI must be a node ID: {host}", "bad-host")

    # --- pieces ----------------------------------------------------------------------------

    def host_span(self) -> tuple[int, int]:
        v = self.value
        a = v.index("://") + 3
        rest_end = len(v) if (q := v.find("?")) < 0 else q
        b = v.find("/", a, rest_end)
        return a, rest_end if b < 0 else b

    def path_span(self) -> tuple[int, int]:
        v = self.value
        _, path_start = self.host_span()
        rest_end = len(v) if (q := v.find("?")) < 0 else q
        return path_start, rest_end

    def kms_path(self, parsed: ParsedURI, scheme: catalog.Scheme) -> None:
        a, b = self.path_span()
        path = parsed.path
        if scheme.empty_path_message and path == "/":
            self.add(a, b, scheme.empty_path_message, "empty-key-path")
        elif scheme.name == "azure-kms" and len(path.removeprefix("/").split("/")) != 2:
            # azure_kms.go: strings.Split(path, "/") must give exactly name and version.
            self.add(a, b, "azure kms key must be of form 'id/version'", "azure-key-path")

    def params(self, parsed: ParsedURI, scheme: catalog.Scheme) -> None:
        auth = parsed.param("AUTH") or ""
        seen: set[str] = set()
        for p in parsed.params:
            name_end = p.value_start - 1 if p.value_start > p.name_start and self.value[p.value_start - 1] == "=" else p.value_start
            if p.name in seen:
                self.add(p.name_start, name_end,
                         f"{p.name} is given more than once; CockroachDB uses the first value",
                         "duplicate-param", "warning")
                continue
            seen.add(p.name)
            if scheme.any_params or p.name == catalog.LOCALITY_PARAM or p.name in scheme.param_names:
                continue
            if (scheme.name == "azure-kms" and p.name == "AZURE_ACCOUNT_KEY"
                    and auth in ("", "specified")):
                # azure_kms.go checks legacy shared-key auth before the leftover params.
                msg = "azure kms requires explicit auth (RBAC) or implicit auth"
            else:
                msg = scheme.unknown_message.format(names=p.name)
            self.add(p.name_start, name_end, msg, "unknown-param")
        present = {p.name for p in parsed.params if parsed.param(p.name)}  # Go's Values.Get
        auth_ok = auth in ("", *catalog.AUTH_VALUES) or not scheme.auth_checked
        if not auth_ok:
            p = next(p for p in parsed.params if p.name == "AUTH")
            self.add(p.value_start, p.value_end, f"unsupported value {auth} for AUTH", "bad-value")
            return
        implicit = auth == "implicit"
        for req in scheme.requirements:
            if req.when == "specified" and implicit:
                continue
            if any(all(n in present for n in alt) for alt in req.any_of):
                continue
            missing = [n for n in req.any_of[0] if n not in present]
            self.whole(req.message.format(missing=", ".join(missing)), "missing-param")
        if implicit and scheme.implicit_forbids:
            extra = [n for n in scheme.implicit_forbids if n in present]
            if extra:
                p = next(p for p in parsed.params if p.name == extra[0])
                self.add(p.name_start, p.value_end,
                         scheme.implicit_forbids_message.format(names=", ".join(extra)),
                         "implicit-conflict")
        self.s3_values(parsed, scheme)

    def s3_values(self, parsed: ParsedURI, scheme: catalog.Scheme) -> None:
        """parseS3URL's value checks (pkg/cloud/amazon/s3_storage.go)."""
        if scheme.name != "s3":
            return
        for p in parsed.params:
            if p.name == "AWS_USE_PATH_STYLE" and p.value and p.value not in _GO_BOOLS:
                self.add(p.value_start, p.value_end,
                         f'cannot parse AWS_USE_PATH_STYLE as bool: strconv.ParseBool: parsing '
                         f'"{p.value}": invalid syntax', "bad-value")
        mode = parsed.param("AWS_SERVER_ENC_MODE") or ""
        if mode and mode not in ("AES256", "aws:kms"):
            p = next(p for p in parsed.params if p.name == "AWS_SERVER_ENC_MODE")
            self.add(p.value_start, p.value_end,
                     f"unsupported server encryption mode {mode}. Supported values are "
                     "`aws:kms` and `AES256`.", "bad-value")
        elif mode == "aws:kms" and not parsed.param("AWS_SERVER_KMS_ID"):
            self.whole("AWS_SERVER_KMS_ID param must be set when using aws:kms server side "
                       "encryption mode.", "missing-param")
