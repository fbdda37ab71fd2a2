"""Issue 15 item 2, as a property: generated secrets (quotes, doubled quotes, spaces, tabs,
no-break spaces, newlines, backslashes, unicode) in URI params of any case, userinfo passwords
and ENCRYPTION_PASSPHRASE values, quoted every way SQL allows (single, e'...' with escapes,
double, unfinished), never reach an exit: redact_uri/redact_text, the formatter, syntax errors,
diagnostics, completion, the history file (shell and app), collections.json, the editor's painted
lines (SQLEditor's highlight hook and get_line), the shell's rendered input with its history
suggestion, its completion menu, its toolbar and its error echo, the app's statement text.

A secret is built from marker chunks (`zq` + 5 letters/digits, text no output contains by
chance) joined by the hard separators; the check is that no chunk survives anywhere.
Budget: tests/fuzz_budget.py (REWRAP_FUZZ_EXAMPLES raises it).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syntax import SQLSyntaxError, complete, diagnose, format_statement, parse
from syntax.uri import SECRET_PARAMS, redact_uri
from syntax.redact import redact_text
from tests.fuzz_budget import budget

MARK = st.text(alphabet="abcdefghjkmnpqrstuvwxyz23456789", min_size=5, max_size=5).map(lambda s: "zq" + s)
HARD = ["'", "''", " ", "\t", "\u00a0", "\n", "\\", '"', "é", "€", "\U0001f600", "=", "%", "+", ";", ")", ",", "--"]


def secrets(separators: list[str]) -> st.SearchStrategy[tuple[str, list[str]]]:
    """(secret, its marker chunks)."""

    @st.composite
    def build(draw: st.DrawFn) -> tuple[str, list[str]]:
        chunks = draw(st.lists(MARK, min_size=1, max_size=3))
        seps = draw(st.lists(st.sampled_from(separators), min_size=len(chunks) + 1, max_size=len(chunks) + 1))
        lead = seps[0] if draw(st.booleans()) else ""
        text = lead + "".join(c + s for c, s in zip(chunks, seps[1:]))
        if draw(st.booleans()):
            text = text[: len(text) - len(seps[-1])]
        return text, chunks

    return build()


def case_variants(name: str) -> st.SearchStrategy[str]:
    return st.sampled_from([name, name.lower(), name.title(), name.replace("_", "_", 1).swapcase()])


PARAM_NAMES = st.one_of(
    st.sampled_from(sorted(SECRET_PARAMS)).flatmap(case_variants),
    st.sampled_from(["AWS_SECRET_KEY", "aws_secret_access_key", "password", "X-Amz-Security-Token"]),
)
BASES = ["s3://bkt/p", "aws:///alias/k", "gs:///projects/p/x", "azure-kms:///n/v", "azure-blob://c/p", "nodelocal://1/c"]


@st.composite
def secret_uri(draw: st.DrawFn) -> tuple[str, list[str]]:
    if draw(st.booleans()):
        value, chunks = draw(secrets([s for s in HARD]))
        name = draw(PARAM_NAMES)
        base = draw(st.sampled_from(BASES))
        tail = draw(st.sampled_from(["", "&REGION=us-east-1", "&AUTH=implicit"]))
        return f"{base}?AUTH=specified&{name}={value}{tail}", chunks
    value, chunks = draw(secrets([s for s in HARD if s not in ("?", "\n")] + ["@", "/", ":"]))
    host = draw(st.sampled_from(["s3://user:{}@bkt/p", "https://u:{}@host/x?AUTH=specified", "gs://me:{}@b"]))
    return host.format(value), chunks


def _escape_char(c: str, unicode_escape: bool) -> str:
    if c == "'":
        return "\\'"
    if c == "\\":
        return "\\\\"
    if c in "\n\t":
        return {"\n": "\\n", "\t": "\\t"}[c]
    if ord(c) > 127 and unicode_escape:
        return f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}"
    return c


@st.composite
def quoted(draw: st.DrawFn, value: str) -> str:
    """`value` as a SQL literal, any way: '', e'' (escapes), "" (an identifier), maybe unfinished."""
    style = draw(st.sampled_from(["single", "escape", "double"]))
    if style == "single":
        text = "'" + value.replace("'", "''") + "'"
    elif style == "escape":
        uni = draw(st.booleans())
        text = "e'" + "".join(_escape_char(c, uni) for c in value) + "'"
    else:
        text = '"' + value.replace('"', '""') + '"'
    return text


@dataclass
class Case:
    sql: str
    chunks: list[str]
    uris: list[str] = field(default_factory=list)


@st.composite
def statements(draw: st.DrawFn) -> Case:
    kind = draw(st.sampled_from(["kms", "alter", "collection", "passphrase", "twice", "restore"]))
    uri, chunks = draw(secret_uri())
    lit = draw(quoted(uri))
    pp, pp_chunks = draw(secrets(HARD))
    pp_lit = draw(quoted(pp))
    uris = [uri]
    if kind == "kms":
        sql = f"SHOW BACKUP FROM LATEST IN 'nodelocal://1/c' WITH KMS = {lit}"
    elif kind == "alter":
        sql = f"ALTER BACKUP LATEST IN 'nodelocal://1/c' ADD NEW_KMS = {lit} WITH OLD_KMS = 'testkms:///k'"
    elif kind == "collection":
        sql = f"SHOW BACKUPS IN {lit}"
    elif kind == "passphrase":
        eq = draw(st.sampled_from([" = ", "=", " ", "\n= "]))
        sql = f"SHOW BACKUP LATEST IN 'nodelocal://1/c' WITH ENCRYPTION_PASSPHRASE{eq}{pp_lit}"
        chunks = pp_chunks
    elif kind == "twice":
        sql = (
            f"SHOW BACKUP LATEST IN {lit} WITH OPTIONS (encryption_passphrase = {pp_lit}, "
            f"kms = {lit}, Encryption_Passphrase = {pp_lit})"
        )
        chunks = chunks + pp_chunks
    else:
        sql = f"RESTORE FROM LATEST IN {lit} WITH encryption_passphrase = {pp_lit}"
        chunks = chunks + pp_chunks
    ending = draw(st.sampled_from(["", ";", " GARBAGE", "unfinished"]))
    if ending == "unfinished":
        sql = sql.rstrip(")")[:-1]  # drop the closing quote of the last literal (and what follows)
    else:
        sql += ending
    return Case(sql, chunks, uris)


def assert_clean(where: str, text: str, case: Case) -> None:
    for chunk in case.chunks:
        assert chunk not in text, f"{where} shows {chunk!r}:\n{text}\n--- from ---\n{case.sql}"


def text_exits(case: Case) -> list[tuple[str, str]]:
    """Every exit of syntax/ and of the shell/app helpers that need no terminal."""
    from tui.app.main import show_text
    from tui.shared import safe_error
    from tui.shared import check_kms_uri

    sql = case.sql
    out = [("redact_text", redact_text(sql)), ("show_text", show_text(sql))]
    out += [("redact_uri", redact_uri(u)) for u in case.uris]
    out += [("redact_uri hide_path", redact_uri(u, hide_path=True)) for u in case.uris]
    try:
        for s in parse(sql):
            out.append(("format redact", format_statement(s, redact=True)))
            out.append(("format hide_uris", format_statement(s, hide_uris=True)))
    except SQLSyntaxError as e:
        out += [("error", str(e)), ("error.message", e.message), ("error.source_line", e.source_line)]
        out.append(("app error", safe_error(e)))
    for d in diagnose(sql, check_kms_uri=check_kms_uri):
        out.append(("diagnostic", d.message))
    for cursor in {len(sql), len(sql) // 2}:
        for c in complete(sql, cursor, kms_history=case.uris):
            out.append(("completion detail", c.detail))
    return out


@budget(60)
@given(statements())
def test_no_secret_in_syntax_and_text_exits(case: Case) -> None:
    for where, text in text_exits(case):
        assert_clean(where, text, case)


@budget(40)
@given(case=statements())
def test_no_secret_in_history_or_collections_json(case: Case, tmp_path_factory: pytest.TempPathFactory) -> None:
    from tui.collections_store import CollectionStore
    from tui.history import History

    d = tmp_path_factory.mktemp("files")
    History(d / "history").append(case.sql)
    assert_clean("history file", (d / "history").read_text(), case)
    for uri in case.uris:
        CollectionStore(d / "collections.json").add(uri)
        assert_clean("collections.json", (d / "collections.json").read_text(), case)
        json.loads((d / "collections.json").read_text())


# --- the shell: prompt_toolkit renders the input, suggestion and menu without a terminal --------


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    from prompt_toolkit.application import create_app_session
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    monkeypatch.setenv("REWRAP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("REWRAP_EXTERNAL_IO_DIR", str(tmp_path / "extern"))
    from engine.execute import Executor
    from tui.shell.main import Shell

    with create_pipe_input() as inp, create_app_session(input=inp, output=DummyOutput()):
        yield Shell(Executor(dry_run=True), out=io.StringIO(), err=io.StringIO()), tmp_path


def rendered_input(sh: object, text: str, *, prefix: str | None = None) -> str:
    """What the shell draws for `text` in its input (all processors, the suggestion included)."""
    from prompt_toolkit.application.current import set_app
    from prompt_toolkit.document import Document
    from prompt_toolkit.formatted_text import fragment_list_to_text
    from prompt_toolkit.layout.controls import BufferControl

    session = sh.session  # type: ignore[attr-defined]
    buffer = session.default_buffer
    typed = text if prefix is None else prefix
    buffer.document = Document(typed, len(typed))
    buffer.suggestion = session.auto_suggest.get_suggestion(buffer, buffer.document) if prefix is not None else None
    control = next(
        c for c in session.layout.find_all_controls() if isinstance(c, BufferControl) and c.buffer is buffer
    )
    with set_app(session.app):
        content = control.create_content(200, 60)
        lines = [fragment_list_to_text(content.get_line(i)) for i in range(content.line_count)]
    if prefix is not None:
        assert buffer.suggestion is not None and buffer.suggestion.text  # the suggestion is drawn
        assert len("".join(lines)) >= len(typed) + len(buffer.suggestion.text)  # both drawn
    return "\n".join(lines)


async def test_no_secret_on_the_shell_screen(shell) -> None:  # noqa: ANN001
    """Async only for prompt_toolkit's background tasks (a buffer change starts some)."""
    from prompt_toolkit.completion import CompleteEvent
    from prompt_toolkit.document import Document
    from prompt_toolkit.formatted_text import fragment_list_to_text

    sh, tmp = shell
    session = sh.session

    @budget(40)
    @given(statements())
    def check(case: Case) -> None:
        assert_clean("shell input", rendered_input(sh, case.sql), case)
        session.history.append_string(case.sql)  # what Enter does: memory as typed, file redacted
        assert_clean("shell suggestion", rendered_input(sh, case.sql, prefix=case.sql[:12]), case)
        assert_clean("history file (shell)", (tmp / "data" / "history").read_text(), case)
        sh.kms_seen[:] = case.uris
        session.default_buffer.document = Document(case.sql, len(case.sql))
        assert_clean("shell toolbar", fragment_list_to_text(sh.toolbar()), case)
        completer = session.completer.completer  # ThreadedCompleter's inner SQLCompleter
        for doc in (Document(case.sql[:7]), Document("SHOW BACKUP LATEST IN 'x' WITH KMS = ")):
            for c in completer.get_completions(doc, CompleteEvent(completion_requested=True)):
                assert_clean("shell menu", fragment_list_to_text(c.display), case)
                assert_clean("shell menu meta", fragment_list_to_text(c.display_meta), case)
        try:
            parse(case.sql)
        except SQLSyntaxError:
            sh.run_script(case.sql)
            assert_clean("shell error echo", sh.err.getvalue(), case)

    check()


# --- the editor: SQLEditor's highlight hook and get_line, in a running app ----------------------


async def test_no_secret_in_the_editors_painted_lines() -> None:
    from textual.app import App, ComposeResult

    from tui.app.widgets.editor import SQLEditor

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield SQLEditor("", id="ed")

    app = One()
    async with app.run_test(size=(160, 48)):
        editor = app.query_one(SQLEditor)

        @budget(60)
        @given(statements())
        def check(case: Case) -> None:
            editor.load_text(case.sql)
            editor._build_highlight_map()  # the Textual 8.2 hook the editor fills
            painted = "\n".join(editor.get_line(i).plain for i in range(editor.document.line_count))
            assert_clean("editor", painted, case)
            editor.check_now()
            assert_clean("editor status", editor.diagnostic_message(), case)

        check()
