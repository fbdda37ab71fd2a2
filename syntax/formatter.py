"""CockroachDB's canonical text for a statement, plain or with secrets masked.

Layouts come from the tree formatters: pkg/sql/sem/tree/alter_backup.go (AlterBackup,
AlterBackupCmds, AlterBackupKMS), pkg/sql/sem/tree/show.go (ShowBackup, ShowBackupOptions) and
the expected outputs in pkg/sql/parser/testdata/alter_backup and .../backup_restore.
String constants follow pkg/sql/lexbase/encode.go EncodeSQLStringWithFlags.
"""

from __future__ import annotations

from syntax.ast import (
    AlterBackup,
    ClusterStatement,
    Placeholder,
    ShowBackup,
    ShowBackupKeys,
    ShowBackupOptions,
    ShowBackups,
    ShowKMSRetirement,
    Statement,
    Value,
)
from syntax.tokens import HIDDEN, TokenKind, decode_string, looks_like_uri, tokenize
from syntax.uri import redact_uri
from syntax.redact import redact_text

# HIDDEN: CockroachDB's stand-in for a URI in anonymized form and for a password or passphrase.

# stringencoding's encodeMap: these get a one-letter backslash escape.
_ESCAPES = {"\b": "b", "\f": "f", "\n": "n", "\r": "r", "\t": "t", "\\": "\\", "'": "'"}


def quote_string(value: str) -> str:
    """A SQL string literal for `value`, exactly as CockroachDB prints it.

    Printable ASCII other than `'` and `\\` goes inside plain quotes. Anything else switches the
    whole literal to an `e'...'` escape string: \\b \\f \\n \\r \\t \\\\ \\', \\xHH for other
    ASCII, then \\uXXXX for 2-byte UTF-8 runes and \\UXXXXXXXX for longer ones
    (stringencoding.EncodeEscapedChar).
    """
    if all(" " <= c <= "~" and c != "'" and c != "\\" for c in value):
        return f"'{value}'"
    out = ["e'"]
    for c in value:
        if " " <= c <= "~" and c != "'" and c != "\\":
            out.append(c)
        elif c in _ESCAPES:
            out.append("\\" + _ESCAPES[c])
        elif ord(c) < 0x80:
            out.append(f"\\x{ord(c):02x}")
        elif len(c.encode("utf-8", "surrogatepass")) == 2:
            out.append(f"\\u{ord(c):04X}")
        else:
            out.append(f"\\U{ord(c):08X}")
    out.append("'")
    return "".join(out)


class _Formatter:
    def __init__(self, redact: bool, hide_uris: bool) -> None:
        self.redact = redact
        self.hide_uris = hide_uris

    def value(self, v: Value, *, uri: bool) -> str:
        if isinstance(v, Placeholder):
            return f"${v.index}"
        if uri and self.hide_uris:
            return HIDDEN
        return quote_string(redact_uri(v) if self.redact else v)

    def values(self, vs: tuple[Value, ...], *, uri: bool = True) -> str:
        """string_or_placeholder_opt_list: one item bare, several as `('a', 'b')`."""
        if len(vs) == 1:
            return self.value(vs[0], uri=uri)
        return "(" + ", ".join(self.value(v, uri=uri) for v in vs) + ")"

    def secret(self, v: Value) -> str:
        if isinstance(v, Placeholder):
            return f"${v.index}"
        return HIDDEN if (self.redact or self.hide_uris) else quote_string(v)

    def alter(self, s: AlterBackup) -> str:
        if s.all_in:
            head = f"ALTER BACKUP ALL IN {self.value(s.collection or '', uri=True)}"
        elif s.collection is not None:
            head = (
                f"ALTER BACKUP {self.value(s.target or '', uri=False)}"
                f" IN {self.value(s.collection, uri=True)}"
            )
        else:
            head = f"ALTER BACKUP {self.value(s.target or '', uri=True)}"
        # AlterBackupCmds joins with " " and each command starts with " ADD": two spaces between
        # commands is what CockroachDB prints.
        cmds = " ".join(
            f" ADD NEW_KMS={self.values(c.new_kms)} WITH OLD_KMS={self.values(c.old_kms)}"
            for c in s.commands
        )
        return head + cmds

    def options(self, o: ShowBackupOptions) -> str:
        """ShowBackupOptions.Format: fixed order, lower-case names, `name = value`."""
        parts: list[str] = []
        if o.as_json:
            parts.append("as_json")
        if o.check_files:
            parts.append("check_files")
        if o.debug_ids:
            parts.append("debug_ids")
        if o.encryption_passphrase is not None:
            parts.append(f"encryption_passphrase = {self.secret(o.encryption_passphrase)}")
        if o.incremental_location is not None:
            parts.append(f"incremental_location = {self.values(o.incremental_location)}")
        if o.privileges:
            parts.append("privileges")
        if o.encryption_info_dir is not None:
            parts.append(f"encryption_info_dir = {self.value(o.encryption_info_dir, uri=False)}")
        if o.kms is not None:
            parts.append(f"kms = {self.values(o.kms)}")
        if o.skip_size:
            parts.append("skip size")
        return f" WITH OPTIONS ({', '.join(parts)})" if parts else ""

    def show_backup(self, s: ShowBackup) -> str:
        # CockroachDB's ShowBackup.Format has no case for VALIDATE (it would print a plain SHOW
        # BACKUP); we print it so the statement keeps its meaning.
        details = f"{s.details} " if s.details else ""
        from_ = "FROM " if (s.explicit_from or s.details) else ""
        return (
            f"SHOW BACKUP {details}{from_}{self.value(s.subdir, uri=False)}"
            f" IN {self.values(s.collections)}{self.options(s.options)}"
        )

    def show_keys(self, s: ShowBackupKeys) -> str:
        text = (
            f"SHOW BACKUP KEYS FROM {self.value(s.subdir, uri=False)}"
            f" IN {self.value(s.collection, uri=True)}"
        )
        if s.kms is not None:
            text += f" WITH OPTIONS (kms = {self.values(s.kms)})"
        return text

    def retirement(self, s: ShowKMSRetirement) -> str:
        colls = ", ".join(self.value(c, uri=True) for c in s.collections)
        return (
            f"SHOW KMS RETIREMENT {self.value(s.old_kms, uri=True)} IN {colls}"
            f" WITH KMS = {self.values(s.kms)}"
        )

    def cluster(self, s: ClusterStatement) -> str:
        """The statement as written, with secrets redacted (redact_text, the one redaction) and,
        for `hide_uris`, every URI literal as '*****' too."""
        if not (self.redact or self.hide_uris):
            return s.text
        if not self.hide_uris:
            return redact_text(s.text)
        toks = tokenize(s.text)
        out = []
        for tok in toks:
            if tok.kind is TokenKind.STRING and looks_like_uri(decode_string(tok.text)):
                out.append(HIDDEN)
            else:
                out.append(tok.text)
        return redact_text("".join(out))


def format_statement(stmt: Statement, *, redact: bool = False, hide_uris: bool = False) -> str:
    """The canonical CockroachDB text of `stmt`.

    `redact` masks secret URI parameters (via syntax.uri.redact_uri, the one redaction function)
    and passphrases; `hide_uris` prints every URI as '*****' (CockroachDB's anonymized form).
    """
    f = _Formatter(redact, hide_uris)
    if isinstance(stmt, AlterBackup):
        return f.alter(stmt)
    if isinstance(stmt, ShowBackups):
        return f"SHOW BACKUPS IN {f.values(stmt.collections)}"
    if isinstance(stmt, ShowBackup):
        return f.show_backup(stmt)
    if isinstance(stmt, ShowBackupKeys):
        return f.show_keys(stmt)
    if isinstance(stmt, ShowKMSRetirement):
        return f.retirement(stmt)
    if isinstance(stmt, ClusterStatement):
        return f.cluster(stmt)
    raise TypeError(f"not a statement: {type(stmt).__name__}")
