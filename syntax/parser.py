"""The one grammar walker: a recursive-descent parser that goes on after an error.

Grammar: CockroachDB's pkg/sql/parser/sql.y (alter_backup_stmt, show_backup_stmt). One walk of a
statement gives its AST or its first syntax error (laid out like CockroachDB's, syntax/errors.py)
and, for completion and diagnostics, every value with its role (`Slot`), SHOW BACKUP's options,
ALTER's ADD clauses and, per token position, what the grammar accepts there (`Expect`). After an
error the walk recovers: a missing keyword, `=` or value is taken as inserted, a token that fits
nowhere is skipped, so the slots after a mistake are still known. Positions where an error was
found keep what was expected before it (nothing a recovery guessed). BACKUP and RESTORE are
walked for shape only (they need a cluster): no slots, no expectations past their first word.
Scripts are cut into statements by syntax/split.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from syntax.ast import (
    AlterBackup,
    ClusterStatement,
    KMSChange,
    Placeholder,
    ShowBackup,
    ShowBackupKeys,
    ShowBackupOptions,
    ShowBackups,
    ShowKMSRetirement,
    Statement,
    Value,
)
from syntax.errors import SQLSyntaxError, make_error
from syntax.split import pieces, split_statements
from syntax.tokens import (
    RESERVED,
    Token,
    TokenKind,
    apply_edits,
    decode_string,
    lexical_error,
    redaction_edits,
)

__all__ = ["parse", "split_statements", "walk", "SQLSyntaxError", "Walk", "Slot", "Expect"]

# Roles of values. "target" is ALTER BACKUP's first value while it is unknown whether an IN
# follows (then it is a "subdir"; without IN it is a full "backup" URI).
TARGET, SUBDIR, BACKUP, COLLECTION, KMS, OLD_KMS, STORAGE, PASSPHRASE = (
    "target", "subdir", "backup", "collection", "kms", "old_kms", "storage", "passphrase",
)
RETIRED_KMS = "retired_kms"  # SHOW KMS RETIREMENT's key to retire
KMS_ROLES = frozenset({KMS, OLD_KMS, RETIRED_KMS})
STORAGE_ROLES = frozenset({BACKUP, COLLECTION, STORAGE})

# How an "expected ..." names a value of each role (CockroachDB's own words where it has them:
# `<subdirectory>`, `<collectionURI>`, `<backupURI>` in its legacy-syntax errors).
ROLE_PHRASES = {
    TARGET: "<subdirectory>",
    SUBDIR: "<subdirectory>",
    BACKUP: "<backupURI>",
    COLLECTION: "<collectionURI>",
    KMS: "<kmsURI>",
    OLD_KMS: "<kmsURI>",
    RETIRED_KMS: "<kmsURI>",
    STORAGE: "<URI>",
    PASSPHRASE: "<passphrase>",
}

STATEMENT_STARTS = ("alter", "show", "backup", "restore")
SHOW_DETAILS = ("schemas", "files", "ranges", "validate")
SHOW_OPTIONS = (
    "as_json", "check_files", "skip", "nowait", "debug_ids", "privileges",
    "incremental_location", "kms", "encryption_passphrase", "encryption_info_dir",
)
ADD_PHRASE = "ADD NEW_KMS = ... WITH OLD_KMS = ..."
IN_PHRASE = "IN <collectionURI>"

# Words and marks a recovery stops at: the grammar's own, so a skip never swallows a clause.
_SYNC_WORDS = frozenset(
    {*STATEMENT_STARTS, "backups", "all", "in", "add", "new_kms", "old_kms", "with", "options",
     "kms", "keys", "from", "retirement", *SHOW_OPTIONS, *SHOW_DETAILS}
)
_SYNC_PUNCT = frozenset({"(", ")", ",", "="})
_PUNCT_KINDS = (TokenKind.PUNCTUATION, TokenKind.OPERATOR)

STATEMENTS_HINT = (
    "rewrap runs ALTER BACKUP, SHOW BACKUPS, SHOW BACKUP, SHOW BACKUP KEYS and SHOW KMS RETIREMENT "
    "(BACKUP and RESTORE parse but need a CockroachDB cluster)"
)

# Legacy forms CockroachDB now rejects with a dedicated text (spec §3, from sql.y).
NO_IN_SHOW_BACKUP = (
    "The `SHOW BACKUP{details}` syntax without the `IN` keyword is no longer supported. "
    "Please use `SHOW BACKUP{details} FROM <subdirectory> IN <collectionURI>`."
)
NO_SHOW_BACKUP_CONNECTION = (
    "The `SHOW BACKUP CONNECTION` syntax is no longer supported. "
    "Please use `CHECK EXTERNAL CONNECTION`."
)
NO_BACKUP_TO = (
    "The `BACKUP TO` syntax is no longer supported. "
    "Please use `BACKUP INTO` to create a backup collection."
)
NO_RESTORE_FROM_URI = (
    "The `RESTORE FROM <backupURI>` syntax is no longer supported. "
    "Please use `RESTORE FROM <subdirectory> IN <collectionURI>`."
)
NO_RESTORE_TARGETS_FROM_URI = (
    "The `RESTORE <targets> FROM <backupURI>` syntax is no longer supported. "
    "Please use `RESTORE <targets> FROM <subdirectory> IN <collectionURI>`."
)




@dataclass(frozen=True)
class Expect:
    """What the grammar accepts at one token position (keywords in lower case)."""

    keywords: tuple[str, ...] = ()
    role: str | None = None  # a value of this role may stand here
    punct: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()  # each of the above as an error names it, in grammar order


_NOTHING = Expect()


@dataclass
class _Notes:
    """What the walker looked for at one position (dicts: ordered sets)."""

    keywords: dict[str, None] = field(default_factory=dict)
    punct: dict[str, None] = field(default_factory=dict)
    role: str | None = None
    phrases: dict[str, None] = field(default_factory=dict)

    def expect(self) -> Expect:
        return Expect(tuple(self.keywords), self.role, tuple(self.punct), tuple(self.phrases))


@dataclass
class Slot:
    """One value: its token (a string, placeholder, bare word, or unterminated string)."""

    role: str
    token: Token
    clause: str  # the keyword it belongs to: "NEW_KMS", "OLD_KMS", "KMS", "IN", "FROM", ...
    index: int  # its position among the statement's significant tokens


@dataclass
class Walk:
    """Everything one walk of a statement found (see the module docstring)."""

    tokens: Sequence[Token]
    statement: Statement | None = None  # None when there is an error
    error: SQLSyntaxError | None = None  # the first error: what `parse` raises
    syntax_error: SQLSyntaxError | None = None  # the first one that is not a repeated option
    slots: list[Slot] = field(default_factory=list)
    options: list[tuple[str, Token]] = field(default_factory=list)  # SHOW BACKUP options
    adds: list[tuple[int, int]] = field(default_factory=list)  # spans of ADD clauses
    expected: dict[int, Expect] = field(default_factory=dict)  # by position; none: nothing

    def expect_at(self, index: int) -> Expect:
        """What may stand at token `index` (len(tokens): after the last token)."""
        return self.expected.get(index, _NOTHING)

    def slot_of(self, tok: Token) -> Slot | None:
        return next((s for s in self.slots if s.token == tok), None)


def is_string_token(tok: Token) -> bool:
    """A string literal, closed or not (an unterminated one is an ERROR token)."""
    if tok.kind is TokenKind.STRING:
        return True
    return tok.kind is TokenKind.ERROR and (
        tok.text.startswith("'") or tok.text[:2] in ("e'", "E'")
    )


def bare_word(tok: Token | None) -> str | None:
    """The lower-cased word of an unquoted keyword/identifier token, else None."""
    if tok is None or tok.kind not in (TokenKind.KEYWORD, TokenKind.IDENTIFIER):
        return None
    if tok.text.startswith('"'):
        return None
    return tok.text.lower()


def parse(text: str) -> list[Statement]:
    """Every statement in `text`; raises SQLSyntaxError at the first one that does not parse."""
    out: list[Statement] = []
    for piece in pieces(text):
        if piece.tokens:
            w = walk(text, piece.tokens)
            if w.error is not None:
                raise w.error
            assert w.statement is not None
            out.append(w.statement)
    return out


def walk(text: str, tokens: Sequence[Token]) -> Walk:
    """Walk one statement: its significant tokens (no `;`) of `text`. Never raises."""
    return _Walker(text, tokens).run()


class _Stop(Exception):
    """Nothing more can be walked (a legacy form, a cluster statement's error, no statement)."""


class _Walker:
    """Walks one statement's tokens; `i` is the position, past the end means EOF."""

    def __init__(self, text: str, toks: Sequence[Token]) -> None:
        self.text = text
        self.toks = toks
        self.i = 0
        self.start = toks[0].start if toks else 0
        self.end = toks[-1].end if toks else 0
        self.result = Walk(toks)
        n = len(toks) + 1
        self._notes: dict[int, _Notes] = {}  # what was looked for, per position
        self._frozen: set[int] = set()  # positions an error was found at
        self.quiet = False  # BACKUP / RESTORE: no slots, no expectations
        self.fatal = False  # BACKUP / RESTORE: the first error ends the walk
        self._budget = 4 * n + 16  # errors allowed before giving up (recovery always moves on)

    def run(self) -> Walk:
        try:
            stmt = self.statement()
            self.done()
            if self.result.error is None:
                self.result.statement = stmt
        except _Stop:
            pass
        self.result.expected = {j: n.expect() for j, n in self._notes.items()}
        return self.result

    # --- what may come here -------------------------------------------------------------------

    def _here(self) -> _Notes | None:
        """The notes of the current position, or None when nothing is noted here (BACKUP and
        RESTORE; a position an error was found at)."""
        if self.quiet or self.i in self._frozen:
            return None
        notes = self._notes.get(self.i)
        if notes is None:
            notes = self._notes[self.i] = _Notes()
        return notes

    def note_word(self, word: str, shows: str | None = None) -> None:
        if (n := self._here()) is not None:
            n.keywords[word] = None
            n.phrases[shows or word.upper()] = None

    def note_punct(self, ch: str, shows: str | None = None) -> None:
        """`shows` "" leaves the mark out of the phrases (a `(` opening an optional list)."""
        if (n := self._here()) is not None:
            n.punct[ch] = None
            phrase = f"'{ch}'" if shows is None else shows
            if phrase:
                n.phrases[phrase] = None

    def note_role(self, role: str) -> None:
        if (n := self._here()) is not None:
            if n.role is None:
                n.role = role
            n.phrases[ROLE_PHRASES[role]] = None

    def note_phrase(self, phrase: str) -> None:
        if (n := self._here()) is not None:
            n.phrases[phrase] = None

    # --- token helpers ------------------------------------------------------------------------

    def peek(self, k: int = 0) -> Token | None:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else None

    def word(self, k: int = 0) -> str | None:
        """The bare word at i + k, without noting it as expected (lookahead)."""
        return bare_word(self.peek(k))

    def at(self, *words: str, shows: str | None = None) -> bool:
        """Whether one of `words` is here; each is noted as expected here."""
        for w in words:
            self.note_word(w, shows)
        return self.word() in words

    def accept(self, word: str, shows: str | None = None, *, note: bool = True) -> Token | None:
        if note:
            self.note_word(word, shows)
        tok = self.peek()
        if self.word() == word:
            self.i += 1
            return tok
        return None

    def accept_past_junk(self, word: str, shows: str | None = None) -> Token | None:
        """An optional `word`; when tokens the grammar has no use for stand before it, an error
        at the first of them, and the word is taken after them (a recovery)."""
        tok, nxt = self.accept(word, shows), self.peek()
        if tok is not None or nxt is None or _sync(nxt):
            return tok
        j = next((j for j in range(self.i, len(self.toks)) if _sync(self.toks[j])), None)
        if j is None or bare_word(self.toks[j]) != word:
            return None
        self.fail()
        self.i = j + 1
        return self.toks[j]

    def expect(self, word: str, shows: str | None = None, *, note: bool = True) -> Token | None:
        """`word`, or an error; then a recovery: skip to it or take it as missing (None)."""
        tok = self.accept(word, shows, note=note)
        if tok is None:
            self.fail()
            tok = self.recover_to(lambda t: bare_word(t) == word)
        return tok

    def is_punct(self, ch: str, k: int = 0) -> bool:
        tok = self.peek(k)
        return tok is not None and tok.kind in _PUNCT_KINDS and tok.text == ch

    def accept_punct(self, ch: str, shows: str | None = None) -> Token | None:
        self.note_punct(ch, shows)
        if self.is_punct(ch):
            self.i += 1
            return self.toks[self.i - 1]
        return None

    def expect_punct(self, ch: str, shows: str | None = None) -> Token | None:
        tok = self.accept_punct(ch, shows)
        if tok is None:
            self.fail()
            tok = self.recover_to(lambda t: t.kind in _PUNCT_KINDS and t.text == ch)
        return tok

    def recover_to(self, wanted: Callable[[Token], bool]) -> Token | None:
        """After an error: skip tokens the grammar has no use for up to the wanted one and take
        it; when a word or mark of the grammar (or the end) comes first, consume nothing."""
        for j in range(self.i, len(self.toks)):
            tok = self.toks[j]
            if wanted(tok):
                self.i = j + 1
                return tok
            if _sync(tok):
                break
        return None

    def fail(
        self, detail: str | None = None, tok: Token | None = None, hint: str | None = None,
        code: str = "syntax",
    ) -> None:
        """Record the CockroachDB-style error at `tok` (default: the current token, or EOF)."""
        self._budget -= 1
        if self._budget < 0:
            raise _Stop
        tok = tok if tok is not None else self.peek()
        index = self.toks.index(tok) if tok is not None else len(self.toks)
        self._frozen.add(index)
        r = self.result
        if (r.syntax_error is None and code == "syntax") or r.error is None:
            err = self._error(detail, tok, index, hint, code)
            if r.error is None:
                r.error = err
            if code == "syntax":
                r.syntax_error = err
        if self.fatal:
            raise _Stop

    def _error(
        self, detail: str | None, tok: Token | None, index: int, hint: str | None, code: str
    ) -> SQLSyntaxError:
        notes = self._notes.get(index)
        expected = tuple(notes.phrases) if notes is not None and not detail else ()
        if tok is None:
            near, pos = "EOF", self.end
        elif tok.kind is TokenKind.ERROR:
            return make_error(self.text, f"lexical error: {lexical_error(tok)}", tok.start,
                              self.start, self.end, hint, expected=expected)
        else:
            near, pos = self._near(tok), tok.start
        msg = f'at or near "{near}": syntax error'
        if detail:
            msg += f": {detail}"
        return make_error(self.text, msg, pos, self.start, self.end, hint,
                          expected=expected, code=code)

    def _near(self, tok: Token) -> str:
        """The token as CockroachDB names it: folded words, string values, raw text otherwise;
        a token holding a secret is named by its redacted text."""
        edits = redaction_edits(self.text)
        text = apply_edits(self.text, edits, tok.start, tok.end)
        if text != tok.text:
            tok = Token(tok.kind, text, tok.start, tok.start + len(text))
        if tok.kind is TokenKind.STRING:
            try:
                return decode_string(tok.text)
            except ValueError:
                return tok.text
        if tok.kind in (TokenKind.KEYWORD, TokenKind.IDENTIFIER):
            if tok.text.startswith('"'):
                return tok.text[1:-1].replace('""', '"')
            return tok.text.lower()
        return tok.text

    # --- shared rules -------------------------------------------------------------------------

    def value(self, role: str, clause: str, *, note: bool = True) -> Value:
        """string_or_placeholder: 'string', $n, or a bare non-reserved word (folded to lower
        case). Missing: an error, then "" (a junk token in its place is skipped)."""
        return self.value_slot(role, clause, note=note)[0]

    def value_slot(self, role: str, clause: str, *, note: bool = True) -> tuple[Value, Slot | None]:
        if note:
            self.note_role(role)
        tok = self.peek()
        got: Value | None = None
        if tok is not None:
            if tok.kind is TokenKind.STRING:
                got = decode_string(tok.text)
            elif tok.kind is TokenKind.PLACEHOLDER:
                got = Placeholder(int(tok.text[1:].lstrip("0")))
            elif tok.kind in (TokenKind.KEYWORD, TokenKind.IDENTIFIER):
                if tok.text.startswith('"'):
                    got = tok.text[1:-1].replace('""', '"')
                elif tok.text.lower() not in RESERVED:
                    got = tok.text.lower()
        if got is None:
            self.fail()
            if tok is None or _sync(tok):
                return "", None
            got = ""  # recovery: a junk token (or an unterminated string) stands for the value
            if not is_string_token(tok):
                self.i += 1
                return got, None
        slot = None
        if not self.quiet:
            slot = Slot(role, tok, clause, self.i)  # type: ignore[arg-type]
            self.result.slots.append(slot)
        self.i += 1
        return got, slot

    def value_list(self, role: str, clause: str) -> tuple[Value, ...]:
        """string_or_placeholder_opt_list: one value, or `(v, ...)`."""
        if not self.accept_punct("(", shows=""):
            return (self.value(role, clause),)
        items = [self.value(role, clause)]
        while self.accept_punct(","):
            items.append(self.value(role, clause))
        self.expect_punct(")")
        return tuple(items)

    def done(self) -> None:
        """The statement must end here; trailing tokens are an error (and are not walked)."""
        self.note_phrase("end of statement")
        if self.peek() is not None:
            self.fail()

    def span(self) -> tuple[int, int]:
        return (self.start, self.end)

    # --- statements ---------------------------------------------------------------------------

    def statement(self) -> Statement:
        self.at(*STATEMENT_STARTS)
        first = self.word()
        if first in ("alter", "show"):
            self.i = 1
            seconds = ("backup",) if first == "alter" else ("backup", "backups", "kms")
            if self.at(*seconds):
                if first == "alter":
                    self.i = 2
                    return self.alter_backup()
                return self.show_kms_retirement() if self.word() == "kms" else self.show()
            self.fail(hint=STATEMENTS_HINT)
            raise _Stop
        if first == "backup":
            return self.backup()
        if first == "restore":
            return self.restore()
        self.fail(hint=STATEMENTS_HINT)
        raise _Stop

    def alter_backup(self) -> AlterBackup:
        target: Value | None
        collection: Value | None
        all_in = latest = False
        if self.accept("all"):  # rewrap extension; ALL is reserved in CockroachDB
            self.expect("in", IN_PHRASE)
            target, collection, all_in = None, self.value(COLLECTION, "IN"), True
        else:
            target, slot = self.value_slot(TARGET, "ALTER BACKUP")
            # LATEST names a collection's newest backup: it needs IN, so ADD is not offered.
            latest = isinstance(target, str) and target.lower() == "latest"
            self.note_word("in", IN_PHRASE)
            if not latest:
                self.note_word("add", ADD_PHRASE)  # the full-backup-URI form
            if self.accept_past_junk("in", IN_PHRASE):
                if slot is not None:
                    slot.role = SUBDIR
                collection = self.value(COLLECTION, "IN")
            else:
                if slot is not None and self.peek() is not None:  # at EOF an IN may still come
                    slot.role = BACKUP
                collection = None
        self.expect("add", ADD_PHRASE, note=not (latest and collection is None))
        commands: list[KMSChange] = []
        while True:
            start = self.toks[self.i - 1].start if self.i else self.start
            self.expect("new_kms", "NEW_KMS = ...")
            self.expect_punct("=", "= <kmsURI>")
            new = self.value_list(KMS, "NEW_KMS")
            self.expect("with", "WITH OLD_KMS = ...")
            self.expect("old_kms", "OLD_KMS = ...")
            self.expect_punct("=", "= <kmsURI>")
            old = self.value_list(OLD_KMS, "OLD_KMS")
            end = self.toks[self.i - 1].end if self.i else self.start
            commands.append(KMSChange(new, old, span=(start, end)))
            self.result.adds.append((start, end))
            if self.accept("add", ADD_PHRASE):
                continue
            if self.peek() is None:
                break
            self.done()  # junk after a clause: an error, then the next ADD if there is one
            if self.recover_to(lambda t: bare_word(t) == "add") is None:
                break
        return AlterBackup(target, collection, tuple(commands), all_in=all_in, span=self.span())

    def show(self) -> ShowBackups | ShowBackup | ShowBackupKeys:
        if self.accept("backups"):
            self.expect("in", IN_PHRASE)
            return ShowBackups(self.value_list(COLLECTION, "IN"), span=self.span())
        self.expect("backup")
        self.note_word("from")
        self.note_word("keys", "KEYS FROM <subdirectory>")
        if self.word() == "keys" and (self.word(1) == "from" or self.peek(1) is None):
            return self.show_backup_keys()
        if self.word() == "connection" and self.word(1) != "in":  # a legacy form
            self.i = len(self.toks)
            self.fail(NO_SHOW_BACKUP_CONNECTION)
            raise _Stop
        details: str | None = None
        if self.at(*SHOW_DETAILS) and self.word(1) != "in":
            details = self.toks[self.i].text.upper()
            self.i += 1
        from_ = self.accept("from") is not None
        subdir_tok = self.peek()
        subdir = self.value(SUBDIR, "FROM", note=from_ or not details)  # SCHEMAS needs FROM
        if not self.accept("in", IN_PHRASE):
            # The legacy `SHOW BACKUP <uri>` form (options allowed): CockroachDB's own text.
            if self.word() == "with":
                self.show_options()
            if self.peek() is not None:
                self.fail()
            else:
                self.fail(NO_IN_SHOW_BACKUP.format(details=f" {details}" if details else ""))
            raise _Stop
        if details and not from_:
            self.fail(tok=subdir_tok)
        collections = self.value_list(COLLECTION, "IN")
        options = ShowBackupOptions()
        if self.accept_past_junk("with"):
            self.i -= 1
            options = self.show_options()
        return ShowBackup(
            subdir, collections, details, options, span=self.span(), explicit_from=from_
        )

    def show_backup_keys(self) -> ShowBackupKeys:
        self.i += 1  # KEYS
        self.note_word("from", "FROM <subdirectory>")
        if self.peek() is None:  # `SHOW BACKUP KEYS`: CockroachDB reads KEYS as a subdir
            self.fail(NO_IN_SHOW_BACKUP.format(details=""))
            raise _Stop
        self.expect("from")
        subdir = self.value(SUBDIR, "FROM")
        self.expect("in", IN_PHRASE)
        collection = self.value(COLLECTION, "IN")
        kms: tuple[Value, ...] | None = None
        if self.accept_past_junk("with", "WITH KMS = ..."):
            kms = self.kms_option()
        return ShowBackupKeys(subdir, collection, kms, span=self.span())

    def kms_option(self) -> tuple[Value, ...]:
        """After WITH: `[OPTIONS (] KMS = <list> [)]`."""
        paren = self.accept("options") is not None
        if paren:
            self.expect_punct("(")
        tok = self.expect("kms", "KMS = ...")
        if tok is not None and not self.quiet:
            self.result.options.append(("kms", tok))
        self.expect_punct("=", "= <kmsURI>")
        kms = self.value_list(KMS, "KMS")
        if paren:
            self.expect_punct(")")
        return kms

    def show_kms_retirement(self) -> ShowKMSRetirement:
        """SHOW KMS RETIREMENT <old> IN <c> [, <c> ...] | IN (<c>, ...) WITH [OPTIONS (] KMS = ... [)]."""
        self.i = 2
        self.expect("retirement")
        old = self.value(RETIRED_KMS, "RETIREMENT")
        self.expect("in", IN_PHRASE)
        collections = list(self.value_list(COLLECTION, "IN"))
        while self.accept_punct(","):
            collections.append(self.value(COLLECTION, "IN"))
        self.expect("with", "WITH KMS = ...")
        kms = self.kms_option()
        return ShowKMSRetirement(old, tuple(collections), kms, span=self.span())

    def show_options(self) -> ShowBackupOptions:
        """opt_with_show_backup_options; a repeated option is an error, as in CockroachDB."""
        self.expect("with")
        paren = self.accept("options") is not None
        if paren:
            self.expect_punct("(")
        seen: dict[str, object] = {}
        while True:
            tok = self.peek()
            self.at(*SHOW_OPTIONS)
            name = self.word()
            key: str
            val: object = True
            if name in ("skip", "nowait"):  # NOWAIT: an undocumented alias of SKIP SIZE
                self.i += 1
                if name == "skip":
                    self.expect("size")
                key = "skip_size"
            elif name in ("as_json", "check_files", "debug_ids", "privileges"):
                self.i += 1
                key = name
            elif name in ("incremental_location", "kms"):
                self.i += 1
                self.expect_punct("=", f"= {ROLE_PHRASES[KMS if name == 'kms' else STORAGE]}")
                key, val = name, self.value_list(KMS if name == "kms" else STORAGE, name.upper())
            elif name in ("encryption_passphrase", "encryption_info_dir"):
                self.i += 1
                role = PASSPHRASE if name == "encryption_passphrase" else STORAGE
                self.expect_punct("=", f"= {ROLE_PHRASES[role]}")
                key, val = name, self.value(role, name.upper())
            else:
                self.fail()
                if self.recover_to(lambda t: t.kind in _PUNCT_KINDS and t.text == ",") is None:
                    break
                continue
            if tok is not None and not self.quiet:
                self.result.options.append((key, tok))
            if key in seen:
                label = "skip size" if key == "skip_size" else key
                self.fail(f"{label} option specified multiple times", tok=tok,
                          code="duplicate-option")
            seen[key] = val
            if not self.accept_punct(","):
                break
        if paren:
            self.expect_punct(")")
        return ShowBackupOptions(**seen)  # type: ignore[arg-type]

    # --- BACKUP / RESTORE: parsed for shape only ----------------------------------------------

    def _skip_until(self, *words: str) -> int:
        """Advance to the next of `words` outside parentheses; the number of tokens skipped."""
        depth = 0
        skipped = 0
        while True:
            tok = self.peek()
            if tok is None or tok.kind is TokenKind.ERROR:
                self.fail()
                raise _Stop
            if depth == 0 and self.word() in words:
                return skipped
            if self.is_punct("("):
                depth += 1
            elif self.is_punct(")"):
                depth -= 1
                if depth < 0:
                    self.fail()
            self.i += 1
            skipped += 1

    def _balanced_rest(self) -> None:
        """Consume tokens to the end, requiring balanced parentheses and at least one token."""
        if self.peek() is None:
            self.fail()
        depth = 0
        while (tok := self.peek()) is not None:
            if tok.kind is TokenKind.ERROR:
                self.fail()
            if self.is_punct("("):
                depth += 1
            elif self.is_punct(")"):
                depth -= 1
                if depth < 0:
                    self.fail()
            self.i += 1
        if depth:
            self.fail()

    def _cluster_tail(self) -> None:
        """[AS OF SYSTEM TIME expr] [WITH options | WITH OPTIONS (options)]."""
        if self.accept("as"):
            self.expect("of")
            self.expect("system")
            self.expect("time")
            if self.peek() is None or self.word() == "with":
                self.fail()
            self.i += 1
            depth = 0
            while (tok := self.peek()) is not None and not (depth == 0 and self.word() == "with"):
                if tok.kind is TokenKind.ERROR:
                    self.fail()
                depth += self.is_punct("(") - self.is_punct(")")
                self.i += 1
        if self.accept("with"):
            self._balanced_rest()

    def backup(self) -> ClusterStatement:
        self.quiet = self.fatal = True
        self.expect("backup")
        self._skip_until("into", "to")
        if self.accept("to"):
            self.value_list(STORAGE, "IN")
            self._cluster_tail()
            self.fail(NO_BACKUP_TO)
            raise _Stop
        self.expect("into")
        if self.word() == "latest" and self.word(1) == "in":
            self.i += 2
            self.value_list(STORAGE, "IN")
        else:
            tok = self.peek()
            if tok is not None and tok.kind in (TokenKind.STRING, TokenKind.PLACEHOLDER) and self.word(1) == "in":
                self.i += 2
            self.value_list(STORAGE, "IN")
        self._cluster_tail()
        return ClusterStatement("BACKUP", self.text[self.start : self.end], span=self.span())

    def restore(self) -> ClusterStatement:
        self.quiet = self.fatal = True
        self.expect("restore")
        targets = self._skip_until("from")
        self.expect("from")
        self.value(SUBDIR, "FROM")
        if not self.accept("in"):
            self._cluster_tail()
            self.fail(NO_RESTORE_TARGETS_FROM_URI if targets else NO_RESTORE_FROM_URI)
            raise _Stop
        self.value_list(STORAGE, "IN")
        self._cluster_tail()
        return ClusterStatement("RESTORE", self.text[self.start : self.end], span=self.span())


def _sync(tok: Token) -> bool:
    """A word or mark of the grammar: what a recovery stops at."""
    if tok.kind in _PUNCT_KINDS:
        return tok.text in _SYNC_PUNCT
    word = bare_word(tok)
    return word is not None and (word in _SYNC_WORDS or word in RESERVED)
