"""What each value of a statement means and what may come next: the shared ground of
completion and diagnostics.

`walk` follows the grammar of spec/alter-backup-kms-grammar.md §3 (the one syntax/parser.py
implements) over one statement's significant tokens, but never raises: it records every value
with its role (subdir, collection, KMS URI, ...), SHOW BACKUP's options and ALTER's ADD clauses,
and, when the tokens run out, what the grammar would accept there (`Expect`). It stops quietly
at the first token that does not fit; the parser stays the authority on syntax errors.
BACKUP and RESTORE are walked no further than their first keyword (they only need a cluster).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from syntax.tokens import RESERVED, Token, TokenKind, significant, tokenize

# Roles of values. "target" is ALTER BACKUP's first value while it is unknown whether an IN
# follows (then it is a "subdir"; without IN it is a full "backup" URI).
TARGET, SUBDIR, BACKUP, COLLECTION, KMS, OLD_KMS, STORAGE, PASSPHRASE = (
    "target", "subdir", "backup", "collection", "kms", "old_kms", "storage", "passphrase",
)
RETIRED_KMS = "retired_kms"  # SHOW KMS RETIREMENT's key to retire
KMS_ROLES = frozenset({KMS, OLD_KMS, RETIRED_KMS})
STORAGE_ROLES = frozenset({BACKUP, COLLECTION, STORAGE})

STATEMENT_STARTS = ("alter", "show", "backup", "restore")
SHOW_DETAILS = ("schemas", "files", "ranges", "validate")
SHOW_OPTIONS = (
    "as_json", "check_files", "skip", "nowait", "debug_ids", "privileges",
    "incremental_location", "kms", "encryption_passphrase", "encryption_info_dir",
)


@dataclass(frozen=True)
class Expect:
    """What the grammar accepts where the tokens ran out (keywords in lower case)."""

    keywords: tuple[str, ...] = ()
    role: str | None = None  # a value of this role may come here
    punct: tuple[str, ...] = ()


@dataclass
class Slot:
    """One value: its token (a string, placeholder, bare word, or unterminated string)."""

    role: str
    token: Token
    clause: str  # the keyword it belongs to: "NEW_KMS", "OLD_KMS", "KMS", "IN", "FROM", ...


@dataclass
class Walk:
    slots: list[Slot] = field(default_factory=list)
    options: list[tuple[str, Token]] = field(default_factory=list)  # SHOW BACKUP options
    adds: list[tuple[int, int]] = field(default_factory=list)  # spans of complete ADD clauses
    expect: Expect | None = None  # set when the tokens ran out
    stopped_at: Token | None = None  # the first token that did not fit


class _Stop(Exception):
    pass


def statements(text: str) -> list[list[Token]]:
    """Significant tokens of each statement, split at `;` (empty statements kept, so the
    statement after a trailing `;` exists for completion)."""
    out: list[list[Token]] = [[]]
    for tok in significant(tokenize(text)):
        if tok.kind is TokenKind.PUNCTUATION and tok.text == ";":
            out.append([])
        else:
            out[-1].append(tok)
    return out


def is_string_token(tok: Token) -> bool:
    """A string literal, closed or not (an unterminated one is an ERROR token)."""
    if tok.kind is TokenKind.STRING:
        return True
    return tok.kind is TokenKind.ERROR and (
        tok.text.startswith("'") or tok.text[:2] in ("e'", "E'")
    )


def bare_word(tok: Token | None) -> str | None:
    """The lower-cased word of an unquoted keyword/identifier token."""
    if tok is None or tok.kind not in (TokenKind.KEYWORD, TokenKind.IDENTIFIER):
        return None
    if tok.text.startswith('"'):
        return None
    return tok.text.lower()


def walk(tokens: Sequence[Token]) -> Walk:
    """Walk one statement's significant tokens (see the module docstring); never raises."""
    w = _Walker(tokens)
    try:
        w.statement()
    except _Stop:
        pass
    return w.result


class _Walker:
    def __init__(self, toks: Sequence[Token]) -> None:
        self.toks = toks
        self.i = 0
        self.optional: list[str] = []  # optional keywords skipped at the end of the tokens
        self.optional_punct: list[str] = []
        self.result = Walk()

    # --- primitives ------------------------------------------------------------------------

    def at_end(self) -> bool:
        return self.i >= len(self.toks)

    def word(self, k: int = 0) -> str | None:
        j = self.i + k
        return bare_word(self.toks[j]) if j < len(self.toks) else None

    def end(self, keywords: Sequence[str] = (), role: str | None = None,
            punct: Sequence[str] = ()) -> None:
        self.result.expect = Expect(
            tuple(dict.fromkeys([*self.optional, *keywords])),
            role,
            tuple(dict.fromkeys([*self.optional_punct, *punct])),
        )
        raise _Stop

    def bad(self) -> None:
        self.result.stopped_at = self.toks[self.i]
        raise _Stop

    def kw(self, *words: str) -> str:
        if self.at_end():
            self.end(words)
        w = self.word()
        if w not in words:
            self.bad()
        self.i += 1
        return w  # type: ignore[return-value]

    def opt(self, *words: str) -> str | None:
        if self.at_end():
            self.optional.extend(words)
            return None
        w = self.word()
        if w in words:
            self.i += 1
            return w
        return None

    def is_punct(self, ch: str) -> bool:
        if self.at_end():
            return False
        tok = self.toks[self.i]
        return tok.kind in (TokenKind.PUNCTUATION, TokenKind.OPERATOR) and tok.text == ch

    def punct(self, ch: str) -> None:
        if self.at_end():
            self.end(punct=(ch,))
        if not self.is_punct(ch):
            self.bad()
        self.i += 1

    def opt_punct(self, ch: str) -> bool:
        if self.at_end():
            self.optional_punct.append(ch)
            return False
        if self.is_punct(ch):
            self.i += 1
            return True
        return False

    def value(self, role: str, clause: str, keywords: Sequence[str] = ()) -> Slot:
        if self.at_end():
            self.end(keywords, role)
        tok = self.toks[self.i]
        ok = (
            is_string_token(tok)
            or tok.kind is TokenKind.PLACEHOLDER
            or (tok.kind in (TokenKind.KEYWORD, TokenKind.IDENTIFIER)
                and (tok.text.startswith('"') or tok.text.lower() not in RESERVED))
        )
        if not ok:
            self.bad()
        self.i += 1
        slot = Slot(role, tok, clause)
        self.result.slots.append(slot)
        return slot

    def value_list(self, role: str, clause: str) -> None:
        if self.at_end():
            self.end(role=role, punct=("(",))
        if not self.is_punct("("):
            self.value(role, clause)
            return
        self.i += 1
        while True:
            self.value(role, clause)
            if not self.opt_punct(","):
                break
        self.punct(")")

    def done(self) -> None:
        if not self.at_end():
            self.bad()
        self.end()

    # --- grammar ---------------------------------------------------------------------------

    def statement(self) -> None:
        first = self.kw(*STATEMENT_STARTS)
        if first == "alter":
            self.kw("backup")
            self.alter_backup()
        elif first == "show":
            word = self.kw("backup", "backups", "kms")
            if word == "backups":
                self.kw("in")
                self.value_list(COLLECTION, "IN")
                self.done()
            elif word == "kms":
                self.kms_retirement()
            else:
                self.show_backup()
        # BACKUP / RESTORE: nothing more to offer.

    def alter_backup(self) -> None:
        if self.word() == "all":
            self.i += 1
            self.kw("in")
            self.value(COLLECTION, "IN")
        else:
            target = self.value(TARGET, "ALTER BACKUP", keywords=("all",))
            if self.at_end():
                self.optional.append("in")
                self.kw("add")
            if self.opt("in"):
                target.role = SUBDIR
                self.value(COLLECTION, "IN")
            else:
                target.role = BACKUP
        self.kw("add")
        while True:
            start = self.toks[self.i - 1].start
            self.kw("new_kms")
            self.punct("=")
            self.value_list(KMS, "NEW_KMS")
            self.kw("with")
            self.kw("old_kms")
            self.punct("=")
            self.value_list(OLD_KMS, "OLD_KMS")
            self.result.adds.append((start, self.toks[self.i - 1].end))
            if not self.opt("add"):
                break
        self.done()

    def show_backup(self) -> None:
        if self.at_end():
            self.end(("from", "keys", *SHOW_DETAILS), SUBDIR)
        nxt = self.word(1)
        if self.word() == "keys" and (nxt == "from" or self.i + 1 >= len(self.toks)):
            self.i += 1
            self.kw("from")
            self.value(SUBDIR, "FROM")
            self.kw("in")
            self.value(COLLECTION, "IN")
            if self.opt("with"):
                paren = self.opt("options")
                if paren:
                    self.punct("(")
                at = self.i
                self.kw("kms")
                self.result.options.append(("kms", self.toks[at]))
                self.punct("=")
                self.value_list(KMS, "KMS")
                if paren:
                    self.punct(")")
            self.done()
            return
        if self.word() in SHOW_DETAILS and nxt != "in":
            self.i += 1
            self.kw("from")
        else:
            self.opt("from")
        self.value(SUBDIR, "FROM")
        self.kw("in")
        self.value_list(COLLECTION, "IN")
        self.show_options()
        self.done()

    def kms_retirement(self) -> None:
        self.kw("retirement")
        self.value(RETIRED_KMS, "RETIREMENT")
        self.kw("in")
        self.value_list(COLLECTION, "IN")
        while self.opt_punct(","):
            self.value(COLLECTION, "IN")
        self.kw("with")
        paren = self.opt("options")
        if paren:
            self.punct("(")
        at = self.i
        self.kw("kms")
        self.result.options.append(("kms", self.toks[at]))
        self.punct("=")
        self.value_list(KMS, "KMS")
        if paren:
            self.punct(")")
        self.done()

    def show_options(self) -> None:
        if not self.opt("with"):
            return
        paren = self.opt("options")
        if paren:
            self.punct("(")
        while True:
            at = self.i
            name = self.kw(*SHOW_OPTIONS)
            tok = self.toks[at]
            key = "skip_size" if name in ("skip", "nowait") else name
            self.result.options.append((key, tok))
            if name == "skip":
                self.kw("size")
            elif name in ("kms", "incremental_location"):
                self.punct("=")
                self.value_list(KMS if name == "kms" else STORAGE, name.upper())
            elif name == "encryption_passphrase":
                self.punct("=")
                self.value(PASSPHRASE, "ENCRYPTION_PASSPHRASE")
            elif name == "encryption_info_dir":
                self.punct("=")
                self.value(STORAGE, "ENCRYPTION_INFO_DIR")
            if not self.opt_punct(","):
                break
        if paren:
            self.punct(")")
