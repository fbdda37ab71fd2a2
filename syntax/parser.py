"""Recursive-descent parser for the statements rewrap runs, to the AST in syntax/ast.py.

Grammar: spec/alter-backup-kms-grammar.md §3, itself from pkg/sql/parser/sql.y. Statements are
split at `;` exactly as CockroachDB's scanner does (a `;` inside a string or comment does not
count), empty statements are skipped, and errors read like CockroachDB's (syntax/errors.py).
"""

from __future__ import annotations

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
from syntax.tokens import (
    RESERVED,
    Token,
    TokenKind,
    apply_edits,
    decode_string,
    lexical_error,
    redaction_edits,
    significant,
    tokenize,
)

__all__ = ["parse", "split_statements", "SQLSyntaxError"]

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

_DETAILS = ("schemas", "files", "ranges", "validate")


def _chunks(text: str) -> list[list[Token]]:
    """Significant tokens of each non-empty statement."""
    out: list[list[Token]] = []
    cur: list[Token] = []
    for tok in significant(tokenize(text)):
        if tok.kind is TokenKind.PUNCTUATION and tok.text == ";":
            if cur:
                out.append(cur)
            cur = []
        else:
            cur.append(tok)
    if cur:
        out.append(cur)
    return out


def split_statements(text: str) -> list[tuple[int, int]]:
    """(start, end) of each non-empty statement: first token start to last token end, no `;`."""
    return [(c[0].start, c[-1].end) for c in _chunks(text)]


def parse(text: str) -> list[Statement]:
    """Every statement in `text`; raises SQLSyntaxError at the first one that does not parse."""
    return [_StatementParser(text, chunk).statement() for chunk in _chunks(text)]


def parse_tokens(text: str, tokens: list[Token]) -> Statement:
    """One statement from its significant tokens (non-empty, no `;`) of `text`, so a caller that
    already tokenized (diagnostics) checks each statement on its own; raises SQLSyntaxError."""
    return _StatementParser(text, tokens).statement()


class _StatementParser:
    """Parses one statement's tokens; `i` walks them, None past the end means EOF."""

    def __init__(self, text: str, toks: list[Token]) -> None:
        self.text = text
        self.toks = toks
        self.i = 0
        self.start = toks[0].start
        self.end = toks[-1].end

    # --- token helpers ------------------------------------------------------------------------

    def peek(self, k: int = 0) -> Token | None:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else None

    @staticmethod
    def word_of(tok: Token | None) -> str | None:
        """The lower-cased word of an unquoted keyword/identifier token, else None."""
        if tok is None or tok.kind not in (TokenKind.KEYWORD, TokenKind.IDENTIFIER):
            return None
        if tok.text.startswith('"'):
            return None
        return tok.text.lower()

    def word(self, k: int = 0) -> str | None:
        return self.word_of(self.peek(k))

    def accept(self, word: str) -> Token | None:
        tok = self.peek()
        if self.word_of(tok) == word:
            self.i += 1
            return tok
        return None

    def expect(self, word: str) -> Token:
        tok = self.accept(word)
        if tok is None:
            self.fail()
        return tok  # type: ignore[return-value]

    def is_punct(self, ch: str, k: int = 0) -> bool:
        tok = self.peek(k)
        return tok is not None and tok.kind in (TokenKind.PUNCTUATION, TokenKind.OPERATOR) and tok.text == ch

    def expect_punct(self, ch: str) -> Token:
        if not self.is_punct(ch):
            self.fail()
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def fail(self, detail: str | None = None, tok: Token | None = None, hint: str | None = None) -> None:
        """Raise the CockroachDB-style error at `tok` (default: the current token, or EOF)."""
        tok = tok if tok is not None else self.peek()
        if tok is None:
            near, pos = "EOF", self.end
        elif tok.kind is TokenKind.ERROR:
            msg = f"lexical error: {lexical_error(tok)}"
            raise make_error(self.text, msg, tok.start, self.start, self.end, hint)
        else:
            near, pos = self._near(tok), tok.start
        msg = f'at or near "{near}": syntax error'
        if detail:
            msg += f": {detail}"
        raise make_error(self.text, msg, pos, self.start, self.end, hint)

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

    def value(self) -> Value:
        """string_or_placeholder: 'string', $n, or a bare non-reserved word (folded to lower case)."""
        tok = self.peek()
        if tok is not None:
            if tok.kind is TokenKind.STRING:
                self.i += 1
                return decode_string(tok.text)
            if tok.kind is TokenKind.PLACEHOLDER:
                self.i += 1
                return Placeholder(int(tok.text[1:].lstrip("0")))
            if tok.kind in (TokenKind.KEYWORD, TokenKind.IDENTIFIER):
                if tok.text.startswith('"'):
                    self.i += 1
                    return tok.text[1:-1].replace('""', '"')
                if tok.text.lower() not in RESERVED:
                    self.i += 1
                    return tok.text.lower()
        self.fail()
        raise AssertionError("unreachable")

    def value_list(self) -> tuple[Value, ...]:
        """string_or_placeholder_opt_list: one value, or `(v, ...)`."""
        if not self.is_punct("("):
            return (self.value(),)
        self.i += 1
        items = [self.value()]
        while self.is_punct(","):
            self.i += 1
            items.append(self.value())
        self.expect_punct(")")
        return tuple(items)

    def done(self) -> None:
        if self.peek() is not None:
            self.fail()

    def span(self) -> tuple[int, int]:
        return (self.start, self.end)

    # --- statements ---------------------------------------------------------------------------

    def statement(self) -> Statement:
        first = self.word()
        if first == "alter" and self.word(1) == "backup":
            stmt: Statement = self.alter_backup()
        elif first == "show" and self.word(1) in ("backup", "backups"):
            stmt = self.show()
        elif first == "show" and self.word(1) == "kms":
            stmt = self.show_kms_retirement()
        elif first == "backup":
            stmt = self.backup()
        elif first == "restore":
            stmt = self.restore()
        else:
            tok = self.peek(1) if first in ("alter", "show") else self.peek()
            self.fail(tok=tok, hint=STATEMENTS_HINT)
            raise AssertionError("unreachable")
        self.done()
        return stmt

    def alter_backup(self) -> AlterBackup:
        self.expect("alter")
        self.expect("backup")
        target: Value | None
        collection: Value | None
        all_in = False
        if self.accept("all"):  # rewrap extension; ALL is reserved in CockroachDB
            self.expect("in")
            target, collection, all_in = None, self.value(), True
        else:
            target = self.value()
            collection = self.value() if self.accept("in") else None
        if self.word() != "add":
            self.fail()
        commands: list[KMSChange] = []
        while self.word() == "add":
            start = self.toks[self.i].start
            self.i += 1
            self.expect("new_kms")
            self.expect_punct("=")
            new = self.value_list()
            self.expect("with")
            self.expect("old_kms")
            self.expect_punct("=")
            old = self.value_list()
            commands.append(KMSChange(new, old, span=(start, self.toks[self.i - 1].end)))
        return AlterBackup(target, collection, tuple(commands), all_in=all_in, span=self.span())

    def show(self) -> ShowBackups | ShowBackup | ShowBackupKeys:
        self.expect("show")
        if self.accept("backups"):
            self.expect("in")
            return ShowBackups(self.value_list(), span=self.span())
        self.expect("backup")
        if self.word() == "keys" and self.word(1) == "from":
            return self.show_backup_keys()
        if self.word() == "connection" and self.word(1) != "in":
            self.i += 1
            while self.peek() is not None:
                self.i += 1
            self.fail(NO_SHOW_BACKUP_CONNECTION)
        details: str | None = None
        if self.word() in _DETAILS and self.word(1) != "in":
            details = self.word().upper()  # type: ignore[union-attr]
            self.i += 1
        from_ = self.accept("from") is not None
        subdir_tok = self.peek()
        subdir = self.value()
        if not self.accept("in"):
            if self.word() == "with":
                self.show_options()
            if self.peek() is not None:
                self.fail()
            suffix = f" {details}" if details else ""
            self.fail(NO_IN_SHOW_BACKUP.format(details=suffix))
        if details and not from_:
            self.fail(tok=subdir_tok)
        collections = self.value_list()
        options = self.show_options() if self.word() == "with" else ShowBackupOptions()
        return ShowBackup(
            subdir, collections, details, options, span=self.span(), explicit_from=from_
        )

    def show_backup_keys(self) -> ShowBackupKeys:
        self.expect("keys")
        self.expect("from")
        subdir = self.value()
        self.expect("in")
        collection = self.value()
        kms: tuple[Value, ...] | None = None
        if self.accept("with"):
            paren = self.accept("options") is not None
            if paren:
                self.expect_punct("(")
            self.expect("kms")
            self.expect_punct("=")
            kms = self.value_list()
            if paren:
                self.expect_punct(")")
        return ShowBackupKeys(subdir, collection, kms, span=self.span())

    def show_kms_retirement(self) -> ShowKMSRetirement:
        """SHOW KMS RETIREMENT <old> IN <c> [, <c> ...] | IN (<c>, ...) WITH [OPTIONS (] KMS = ... [)]."""
        self.expect("show")
        self.expect("kms")
        self.expect("retirement")
        old = self.value()
        self.expect("in")
        collections = list(self.value_list())
        while self.is_punct(","):
            self.i += 1
            collections.append(self.value())
        self.expect("with")
        paren = self.accept("options") is not None
        if paren:
            self.expect_punct("(")
        self.expect("kms")
        self.expect_punct("=")
        kms = self.value_list()
        if paren:
            self.expect_punct(")")
        return ShowKMSRetirement(old, tuple(collections), kms, span=self.span())

    def show_options(self) -> ShowBackupOptions:
        """opt_with_show_backup_options; a repeated option is an error, as in CockroachDB."""
        self.expect("with")
        paren = self.accept("options") is not None
        if paren:
            self.expect_punct("(")
        seen: dict[str, object] = {}
        val: object
        while True:
            tok = self.peek()
            name = self.word()
            if name == "skip":
                self.i += 1
                self.expect("size")
                key, val = "skip_size", True
            elif name == "nowait":  # undocumented alias of SKIP SIZE
                self.i += 1
                key, val = "skip_size", True
            elif name in ("as_json", "check_files", "debug_ids", "privileges"):
                self.i += 1
                key, val = name, True
            elif name in ("incremental_location", "kms"):
                self.i += 1
                self.expect_punct("=")
                key, val = name, self.value_list()
            elif name in ("encryption_passphrase", "encryption_info_dir"):
                self.i += 1
                self.expect_punct("=")
                key, val = name, self.value()
            else:
                self.fail()
                raise AssertionError("unreachable")
            if key in seen:
                label = "skip size" if key == "skip_size" else key
                self.fail(f"{label} option specified multiple times", tok=tok)
            seen[key] = val
            if not self.is_punct(","):
                break
            self.i += 1
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
            if tok is None:
                self.fail()
            if tok.kind is TokenKind.ERROR:  # type: ignore[union-attr]
                self.fail()
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
            while self.peek() is not None and not (depth == 0 and self.word() == "with"):
                if self.peek().kind is TokenKind.ERROR:  # type: ignore[union-attr]
                    self.fail()
                depth += self.is_punct("(") - self.is_punct(")")
                self.i += 1
        if self.accept("with"):
            self._balanced_rest()

    def backup(self) -> ClusterStatement:
        self.expect("backup")
        self._skip_until("into", "to")
        if self.accept("to"):
            self.value_list()
            self._cluster_tail()
            self.fail(NO_BACKUP_TO)
        self.expect("into")
        if self.word() == "latest" and self.word(1) == "in":
            self.i += 2
            self.value_list()
        else:
            tok = self.peek()
            if tok is not None and tok.kind in (TokenKind.STRING, TokenKind.PLACEHOLDER) and self.word(1) == "in":
                self.i += 2
            self.value_list()
        self._cluster_tail()
        return ClusterStatement("BACKUP", self.text[self.start : self.end], span=self.span())

    def restore(self) -> ClusterStatement:
        self.expect("restore")
        targets = self._skip_until("from")
        self.expect("from")
        self.value()
        if not self.accept("in"):
            self._cluster_tail()
            self.fail(NO_RESTORE_TARGETS_FROM_URI if targets else NO_RESTORE_FROM_URI)
        self.value_list()
        self._cluster_tail()
        return ClusterStatement("RESTORE", self.text[self.start : self.end], span=self.span())
