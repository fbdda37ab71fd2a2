"""Completion at a cursor: next keywords, LATEST and subdirectories, URI schemes, parameters and
their enum values, and KMS URIs used earlier in the session.

Where the cursor is decides what is replaced (`start`..`end`, always ending at the cursor):
- on a word: the word's start to the cursor; between tokens: nothing (start == end == cursor);
- inside a string literal: the piece being typed, from the first character of the literal's
  content for subdirectories, schemes and whole URIs, or from just after the `?`/`&`/`=` for a
  URI parameter name or value. Nothing is added past the cursor: no closing quote, ever.
Outside a string, a subdirectory or a remembered KMS URI is inserted as a whole quoted literal
(the user asked for the value), a scheme as an opening quote plus the scheme.
Engine data comes only through `subdirs(collection_uri)`, called at most once per call, whose
failures are swallowed (it may list a slow bucket).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from syntax import catalog
from syntax.formatter import quote_string
from syntax.slots import (
    COLLECTION,
    KMS_ROLES,
    PASSPHRASE,
    STORAGE_ROLES,
    SUBDIR,
    TARGET,
    Expect,
    Slot,
    bare_word,
    is_string_token,
    walk,
)
from syntax.tokens import Token, TokenKind, decode_string, significant, tokenize
from syntax.uri import parse_uri, redact_uri

MAX_RESULTS = 200
LATEST_DETAIL = "the most recent full backup (the collection's LATEST file)"

KEYWORD_DETAILS = {
    "ALTER": "ALTER BACKUP: add a KMS key to a backup's encryption",
    "SHOW": "SHOW BACKUPS / SHOW BACKUP / SHOW KMS RETIREMENT",
    "BACKUP": "backup statement (BACKUP itself needs a CockroachDB cluster)",
    "RESTORE": "RESTORE (needs a CockroachDB cluster)",
    "ALL": "every full backup in the collection (rewrap extension)",
    "IN": "the collection URI follows",
    "ADD": "ADD NEW_KMS = ... WITH OLD_KMS = ...",
    "NEW_KMS": "KMS URI(s) to add",
    "OLD_KMS": "a KMS URI the backup is already encrypted with",
    "KEYS": "SHOW BACKUP KEYS: the backup's ENCRYPTION-INFO entries (rewrap extension)",
    "RETIREMENT": "SHOW KMS RETIREMENT '<old kms>' IN <collection> WITH KMS = <remaining>: can the old key be disabled? (rewrap extension)",
    "BACKUPS": "SHOW BACKUPS IN <collection>: list the full backups",
    "KMS": "KMS URI(s) that can decrypt the backup",
    "ENCRYPTION_PASSPHRASE": "passphrase of a passphrase-encrypted backup",
    "CHECK_FILES": "read and check every file of the backup",
    "OPTIONS": "WITH OPTIONS (option, ...)",
}


@dataclass(frozen=True)
class Completion:
    """Replace text[start:end] with `text`. kind: keyword, subdir, scheme, param, value or uri."""

    text: str
    start: int
    end: int
    kind: str
    detail: str


SubdirProvider = Callable[[str], Sequence[str]]


def complete(
    text: str,
    cursor: int,
    *,
    subdirs: SubdirProvider | None = None,
    kms_history: Sequence[str] = (),
) -> list[Completion]:
    """Completions at `cursor`, best first. Never raises."""
    try:
        return complete_strict(text, cursor, subdirs=subdirs, kms_history=kms_history)
    except Exception:  # noqa: BLE001 - a completion bug must never break typing
        return []


def complete_strict(
    text: str,
    cursor: int,
    *,
    subdirs: SubdirProvider | None = None,
    kms_history: Sequence[str] = (),
) -> list[Completion]:
    """`complete` without its safety net, so tests see our own bugs."""
    cursor = max(0, min(cursor, len(text)))
    return _Completer(text, cursor, subdirs, kms_history).run()[:MAX_RESULTS]


# --- sorted subdirectories, reused while the provider hands back the same tuple -------------

_sorted_cache: tuple[object, list[str]] | None = None


def _sorted_subdirs(seq: Sequence[str]) -> list[str]:
    global _sorted_cache
    cached = _sorted_cache
    if cached is not None and cached[0] is seq:
        return cached[1]
    result = sorted(s for s in seq if isinstance(s, str))
    if isinstance(seq, tuple):  # immutable: safe to remember by identity
        _sorted_cache = (seq, result)
    return result


def _prefixed(sorted_items: list[str], prefix: str) -> list[str]:
    """Items starting with `prefix` (exact), by bisection."""
    lo = bisect.bisect_left(sorted_items, prefix)
    out = []
    for i in range(lo, min(len(sorted_items), lo + MAX_RESULTS)):
        item = sorted_items[i]
        if not item.startswith(prefix):
            break
        out.append(item)
    return out


class _Completer:
    def __init__(self, text: str, cursor: int, subdirs: SubdirProvider | None,
                 kms_history: Sequence[str]) -> None:
        self.text = text
        self.cursor = cursor
        self.subdirs = subdirs
        self.kms_history = kms_history
        self.out: list[Completion] = []
        self._slots: list[Slot] | None = None

    def slots(self, stmt: list[Token]) -> list[Slot]:
        """The whole statement's walk, done once per call."""
        if self._slots is None:
            self._slots = walk(stmt).slots
        return self._slots

    def add(self, text: str, start: int, kind: str, detail: str) -> None:
        self.out.append(Completion(text, start, self.cursor, kind, detail))

    # --- where the cursor is ----------------------------------------------------------------

    def run(self) -> list[Completion]:
        text, cursor = self.text, self.cursor
        toks = tokenize(text)
        for t in toks:
            if t.kind is TokenKind.COMMENT and t.start < cursor and (
                cursor < t.end or (cursor == t.end and t.text.startswith("--"))
            ):
                return []  # inside a comment (a line comment runs to the end of its line)
            if t.kind is TokenKind.ERROR and t.text.startswith("/*") and t.start < cursor:
                return []  # inside an unterminated comment
        sig = significant(toks)
        lo, hi = 0, len(sig)
        for idx, t in enumerate(sig):
            if t.kind is TokenKind.PUNCTUATION and t.text == ";":
                if t.end <= cursor:
                    lo = idx + 1
                else:
                    hi = idx
                    break
        stmt = sig[lo:hi]
        cur_i = next((i for i, t in enumerate(stmt) if t.start < cursor <= t.end), None)
        cur = stmt[cur_i] if cur_i is not None else None
        if cur is not None and is_string_token(cur) and (
            cursor < cur.end or cur.kind is TokenKind.ERROR
        ):
            self.in_string(stmt, cur, walk(stmt[:cur_i]).expect)
        elif cur is not None and bare_word(cur) is not None:
            self.outside(stmt, walk(stmt[:cur_i]).expect, text[cur.start : cursor], cur.start)
        else:
            before = [t for t in stmt if t.end <= cursor]
            self.outside(stmt, walk(before).expect, "", cursor)
        return self.out

    # --- between tokens or on a word --------------------------------------------------------

    def outside(self, stmt: list[Token], exp: Expect | None, prefix: str, start: int) -> None:
        if exp is None:
            return
        upper = prefix.upper()
        words = [w.upper() for w in exp.keywords]
        if exp.role in (SUBDIR, TARGET):
            words.append("LATEST")
        exact = [w for w in words if w.startswith(prefix)]
        loose = [w for w in words if w.upper().startswith(upper) and w not in exact]
        for w in dict.fromkeys(exact + loose):
            detail = LATEST_DETAIL if w == "LATEST" else KEYWORD_DETAILS.get(w, "keyword")
            self.add(w, start, "keyword", detail)
        if prefix:
            return  # a bare word is being typed: only keywords fit
        role = exp.role
        if role in (SUBDIR, TARGET):
            for s in self.subdir_list(stmt, ""):
                self.add(quote_string(s), start, "subdir", "backup subdirectory")
        if role in KMS_ROLES:
            for uri in dict.fromkeys(self.kms_history):
                self.add(quote_string(uri), start, "uri", redact_uri(uri))
            for sch in catalog.KMS_SCHEMES.values():
                self.add("'" + sch.template, start, "scheme", sch.doc)
        elif role in STORAGE_ROLES or role == TARGET:
            for sch in catalog.STORAGE_SCHEMES.values():
                self.add("'" + sch.template, start, "scheme", sch.doc)

    # --- inside a string literal ------------------------------------------------------------

    def in_string(self, stmt: list[Token], cur: Token, exp: Expect | None) -> None:
        body = 2 if cur.text[:1] in ("e", "E") else 1
        content_start = cur.start + body
        if self.cursor < content_start:
            return
        raw = self.text[content_start : self.cursor]
        slot = next((s for s in self.slots(stmt) if s.token == cur), None)
        role = slot.role if slot is not None else (exp.role if exp is not None else None)
        if role is None or role == PASSPHRASE:
            return
        if role in (SUBDIR, TARGET):
            if "LATEST".startswith(raw.upper()) and raw.upper() != "LATEST":
                self.add("LATEST", content_start, "subdir", LATEST_DETAIL)
            if role == SUBDIR or "://" not in raw:
                for s in self.subdir_list(stmt, raw):
                    self.add(_escape(s), content_start, "subdir", "backup subdirectory")
        if role in KMS_ROLES:
            for uri in dict.fromkeys(self.kms_history):
                if uri.startswith(raw) and uri != raw:
                    self.add(_escape(uri), content_start, "uri", redact_uri(uri))
        if role == SUBDIR:
            return
        schemes = catalog.KMS_SCHEMES if role in KMS_ROLES else catalog.STORAGE_SCHEMES
        if "://" not in raw:
            low = raw.lower()
            for sch in schemes.values():
                if sch.template.startswith(low):
                    self.add(sch.template, content_start, "scheme", sch.doc)
            return
        scheme = schemes.get(raw[: raw.index("://")].lower())
        if scheme is not None:
            self.uri_params(cur, body, raw, content_start, scheme)

    def uri_params(self, cur: Token, body: int, raw: str, content_start: int,
                   scheme: catalog.Scheme) -> None:
        q = raw.find("?")
        if q < 0:
            return
        piece_start = max(raw.rfind("&"), q) + 1
        piece = raw[piece_start:]
        eq = piece.find("=")
        if eq >= 0:
            param = scheme.param(piece[:eq])
            if param is None:
                return
            typed = piece[eq + 1 :]
            for v in param.values:
                if v.lower().startswith(typed.lower()) and v != typed:
                    self.add(v, content_start + piece_start + eq + 1, "value", param.doc)
            return
        closed = cur.kind is TokenKind.STRING
        whole = self.text[content_start : cur.end - 1 if closed else cur.end]
        present = set(parse_uri(whole).param_names()) - {piece}
        required = {n for r in scheme.requirements if r.when == "always" for alt in r.any_of for n in alt}
        for p in scheme.params:
            if p.name in present or not p.name.lower().startswith(piece.lower()):
                continue
            notes = [p.doc]
            if p.name in required:
                notes.append("required")
            if p.secret:
                notes.append("secret: redacted whenever shown")
            self.add(p.name + "=", content_start + piece_start, "param", "; ".join(notes))

    # --- engine data --------------------------------------------------------------------------

    def subdir_list(self, stmt: list[Token], prefix: str) -> list[str]:
        """Subdirectories of the statement's collection starting with `prefix` (one call)."""
        if self.subdirs is None:
            return []
        collection = _collection(self.slots(stmt), stmt)
        if collection is None:
            return []
        provider, self.subdirs = self.subdirs, None  # at most one call per completion
        try:
            items = _sorted_subdirs(provider(collection))
        except Exception:  # noqa: BLE001 - a slow or failing listing must not break typing
            return []
        return _prefixed(items, prefix)


def _collection(slots: list[Slot], stmt: list[Token]) -> str | None:
    """The statement's collection; when the walk stopped before it (the subdir being typed is
    still empty), the string after the first IN."""
    tok = next((s.token for s in slots if s.role == COLLECTION), None)
    if tok is None:
        after_in = (b for a, b in zip(stmt, stmt[1:]) if bare_word(a) == "in")
        tok = next(after_in, None)
    if tok is None:
        return None
    if tok.kind is TokenKind.STRING:
        try:
            return decode_string(tok.text)
        except ValueError:
            return None
    return bare_word(tok)


def _escape(value: str) -> str:
    """A value as it goes between quotes (`''` works in both '...' and e'...')."""
    return value.replace("'", "''")
