"""Completion at a cursor: next keywords, LATEST and subdirectories, URI schemes, parameters and
their enum values, and KMS URIs used earlier in the session.

Where the cursor is decides what is replaced (`start`..`end`, always ending at the cursor):
- on a word: the word's start to the cursor; between tokens: nothing (start == end == cursor);
- inside a string literal: the piece being typed, from the first character of the literal's
  content for subdirectories, schemes and whole URIs, or from just after the `?`/`&`/`=` for a
  URI parameter name or value. Nothing is added past the cursor: no closing quote, ever.
Outside a string, a subdirectory or a remembered KMS URI is inserted as a whole quoted literal
(the user asked for the value), a scheme as an opening quote plus the scheme.
Engine data comes only through `subdirs(collection_uri)` and `collections(typed)`, each called
at most once per call, whose failures are swallowed (they may list a slow bucket).

What may come at the cursor is read from one walk of the statement (syntax/parser.py);
`slot_at` exposes the value slot itself (its role, e.g. "collection" right after `IN '`) for a UI
that fills it from its own sources.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from syntax import catalog
from syntax.formatter import quote_string
from syntax.parser import (
    COLLECTION,
    KMS_ROLES,
    PASSPHRASE,
    STORAGE_ROLES,
    SUBDIR,
    TARGET,
    Expect,
    Slot,
    Walk,
    bare_word,
    is_string_token,
    walk,
)
from syntax.split import pieces
from syntax.tokens import Token, TokenKind, decode_string, tokenize
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
    """Replace text[start:end] with `text`. kind: keyword, subdir, collection, scheme, param,
    value or uri."""

    text: str
    start: int
    end: int
    kind: str
    detail: str


SubdirProvider = Callable[[str], Sequence[str]]
"""subdirs(collection URI) -> the collection's full backup subdirectories."""
CollectionProvider = Callable[[str], Sequence[str]]
"""collections(typed prefix) -> known collection URIs (remembered ones, local paths, ...)."""


@dataclass(frozen=True)
class CursorSlot:
    """The value slot at a cursor: what a UI may fill from its own sources.

    role: "collection", "subdir", "target" (subdir or full backup URI, IN not written yet),
    "backup", "kms", "old_kms", "retired_kms", "storage" or "passphrase". `start`..`end` is what
    a value replaces (up to the cursor); `typed` the part of the value already typed (its
    decoded content when `in_string`, else ""). `clause`: the keyword it belongs to ("IN", ...).
    """

    role: str
    clause: str
    start: int
    end: int
    typed: str
    in_string: bool


def complete(
    text: str,
    cursor: int,
    *,
    subdirs: SubdirProvider | None = None,
    kms_history: Sequence[str] = (),
    collections: CollectionProvider | None = None,
) -> list[Completion]:
    """Completions at `cursor`, best first. Never raises."""
    try:
        return complete_strict(text, cursor, subdirs=subdirs, kms_history=kms_history,
                               collections=collections)
    except Exception:  # noqa: BLE001 - a completion bug must never break typing
        return []


def complete_strict(
    text: str,
    cursor: int,
    *,
    subdirs: SubdirProvider | None = None,
    kms_history: Sequence[str] = (),
    collections: CollectionProvider | None = None,
) -> list[Completion]:
    """`complete` without its safety net, so tests see our own bugs."""
    cursor = max(0, min(cursor, len(text)))
    return _Completer(text, cursor, subdirs, kms_history, collections).run()[:MAX_RESULTS]


def slot_at(text: str, cursor: int) -> CursorSlot | None:
    """The value slot the cursor is in or at (between tokens where a value may come, or inside
    a string literal), or None (a keyword position, a comment, ...). Never raises."""
    try:
        cursor = max(0, min(cursor, len(text)))
        return _Completer(text, cursor, None, (), None).slot()
    except Exception:  # noqa: BLE001 - like complete: never break typing
        return None


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
    """Items starting with `prefix` (exact), newest first as in the browser (dated subdirs sort
    by time), at most MAX_RESULTS of them, by bisection."""
    lo = bisect.bisect_left(sorted_items, prefix)
    hi = bisect.bisect_left(sorted_items, prefix + "\U0010ffff", lo)
    return sorted_items[max(lo, hi - MAX_RESULTS) : hi][::-1]


class _Completer:
    def __init__(self, text: str, cursor: int, subdirs: SubdirProvider | None,
                 kms_history: Sequence[str], collections: CollectionProvider | None) -> None:
        self.text = text
        self.cursor = cursor
        self.subdirs = subdirs
        self.kms_history = kms_history
        self.collections = collections
        self.out: list[Completion] = []
        self.walk = Walk(())

    def add(self, text: str, start: int, kind: str, detail: str) -> None:
        self.out.append(Completion(text, start, self.cursor, kind, detail))

    # --- where the cursor is ----------------------------------------------------------------

    def locate(self) -> tuple[list[Token], Token | None, int] | None:
        """The cursor's statement (its significant tokens, walked once into `self.walk`), the
        token the cursor is in or at the end of, and that token's position (or the number of
        tokens before the cursor); None inside a comment."""
        text, cursor = self.text, self.cursor
        toks = tokenize(text)
        for t in toks:
            if t.kind is TokenKind.COMMENT and t.start < cursor and (
                cursor < t.end or (cursor == t.end and t.text.startswith("--"))
            ):
                return None  # inside a comment (a line comment runs to the end of its line)
            if t.kind is TokenKind.ERROR and t.text.startswith("/*") and t.start < cursor:
                return None  # inside an unterminated comment
        piece = next(p for p in pieces(text, toks) if cursor < p.end or not p.terminated)
        stmt = list(piece.tokens)
        self.walk = walk(text, stmt)
        cur_i = next((i for i, t in enumerate(stmt) if t.start < cursor <= t.end), None)
        if cur_i is not None and (self.in_literal(stmt[cur_i]) or bare_word(stmt[cur_i])):
            return stmt, stmt[cur_i], cur_i
        return stmt, None, sum(1 for t in stmt if t.end <= cursor)

    def in_literal(self, cur: Token | None) -> bool:
        """The cursor is inside this string literal (an unterminated one runs to the end)."""
        return cur is not None and is_string_token(cur) and (
            self.cursor < cur.end or cur.kind is TokenKind.ERROR
        )

    def run(self) -> list[Completion]:
        found = self.locate()
        if found is None:
            return []
        stmt, cur, index = found
        exp = self.walk.expect_at(index)
        if cur is not None and self.in_literal(cur):
            self.in_string(stmt, cur, exp)
        elif cur is not None and bare_word(cur) is not None:
            self.outside(stmt, exp, self.text[cur.start : self.cursor], cur.start)
        else:
            self.outside(stmt, exp, "", self.cursor)
        return self.out

    def slot(self) -> CursorSlot | None:
        found = self.locate()
        if found is None:
            return None
        _, cur, index = found
        exp = self.walk.expect_at(index)
        if cur is not None and self.in_literal(cur):
            s = self.walk.slot_of(cur)
            role = s.role if s is not None else exp.role
            if role is None:
                return None
            start = cur.start + (2 if cur.text[:1] in ("e", "E") else 1)
            if self.cursor < start:
                return None
            typed = self.text[start : self.cursor].replace("''", "'")
            clause = s.clause if s is not None else ""
            return CursorSlot(role, clause, start, self.cursor, typed, True)
        if exp.role is None or (cur is not None and bare_word(cur) is not None):
            return None
        return CursorSlot(exp.role, "", self.cursor, self.cursor, "", False)

    # --- between tokens or on a word --------------------------------------------------------

    def outside(self, stmt: list[Token], exp: Expect, prefix: str, start: int) -> None:
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
        if role == COLLECTION:
            for uri in self.collection_list(""):
                self.add(quote_string(uri), start, "collection", redact_uri(uri))
        if role in KMS_ROLES:
            for uri in dict.fromkeys(self.kms_history):
                self.add(quote_string(uri), start, "uri", redact_uri(uri))
            for sch in catalog.KMS_SCHEMES.values():
                self.add("'" + sch.template, start, "scheme", sch.doc)
        elif role in STORAGE_ROLES or role == TARGET:
            for sch in catalog.STORAGE_SCHEMES.values():
                self.add("'" + sch.template, start, "scheme", sch.doc)

    # --- inside a string literal ------------------------------------------------------------

    def in_string(self, stmt: list[Token], cur: Token, exp: Expect) -> None:
        body = 2 if cur.text[:1] in ("e", "E") else 1
        content_start = cur.start + body
        if self.cursor < content_start:
            return
        raw = self.text[content_start : self.cursor]
        slot = self.walk.slot_of(cur)
        role = slot.role if slot is not None else exp.role
        if role is None or role == PASSPHRASE:
            return
        if role in (SUBDIR, TARGET):
            if "LATEST".startswith(raw.upper()) and raw.upper() != "LATEST":
                self.add("LATEST", content_start, "subdir", LATEST_DETAIL)
            if role == SUBDIR or "://" not in raw:
                for s in self.subdir_list(stmt, raw):
                    self.add(_escape(s), content_start, "subdir", "backup subdirectory")
        if role == COLLECTION:
            for uri in self.collection_list(raw):
                if uri != raw:
                    self.add(_escape(uri), content_start, "collection", redact_uri(uri))
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

    def collection_list(self, prefix: str) -> list[str]:
        """Known collections starting with `prefix` (one call), in the provider's order."""
        if self.collections is None:
            return []
        provider, self.collections = self.collections, None
        try:
            items = provider(prefix)
        except Exception:  # noqa: BLE001 - a failing source must not break typing
            return []
        return list(dict.fromkeys(u for u in items if isinstance(u, str) and u.startswith(prefix)))

    def subdir_list(self, stmt: list[Token], prefix: str) -> list[str]:
        """Subdirectories of the statement's collection starting with `prefix` (one call)."""
        if self.subdirs is None:
            return []
        collection = _collection(self.walk.slots, stmt)
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
