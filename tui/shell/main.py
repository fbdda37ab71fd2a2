"""`rewrap shell`: a prompt-toolkit line shell in the manner of pgcli and `cockroach sql`.

Colours come from syntax/'s Pygments lexer, completion from syntax.complete (threaded, with
subdirectories listed in the background), the bottom toolbar from syntax.diagnose. Input is
multi-line and runs when it ends with `;` (or is a `\\` command). History is tui/history.py's
redacted 0600 file, shared with the TUI. A statement runs in a worker thread; Ctrl+C cancels it
(ALTER BACKUP stops at the next step boundary, leaving every backup readable; a read is
abandoned) and the session carries on.
"""

from __future__ import annotations

import bisect
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any, TextIO

from prompt_toolkit import PromptSession
from prompt_toolkit.application import run_in_terminal
from prompt_toolkit.application.current import get_app
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.completion import ThreadedCompleter
from prompt_toolkit.filters import Condition, completion_is_selected
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.layout.processors import Processor, Transformation, TransformationInput
from prompt_toolkit.lexers import PygmentsLexer
from prompt_toolkit.styles import Style, merge_styles, style_from_pygments_cls
from pygments.styles import get_style_by_name

from engine.execute import Executor, Result
from engine.inspection import Inspector
from engine.rewrap.events import CancelToken, ProgressSink, ignore
from syntax import SQLSyntaxError, ast, diagnose, ends_statement, parse
from syntax.lexer import RewrapLexer
from syntax.tokens import HIDDEN, TokenKind, tokenize
from syntax.uri import REDACTED
from syntax.redact import redact_text

from tui.batch.output import write_table
from tui.settings import Settings
from tui.shared import EXIT_OK, EXIT_USAGE, check_kms_uri, isatty, safe_error
from tui.shell.complete import SQLCompleter, SubdirCache
from tui.history import History
from tui.shell.history import ShellHistory
from tui.shell.progress import ShellProgress

PROMPT = "rewrap> "
REFRESH_DELAY = 0.1  # seconds between a subdirectory listing landing and the menu reopening
QUIT_WORDS = frozenset({"quit", "exit", "\\q"})

HELP = """\
Statements run when the input ends with ';' (Enter before that starts a new line;
Alt+Enter runs at once):
  SHOW BACKUPS IN '<collection>';
  SHOW BACKUP [FROM] <subdir|LATEST> IN '<collection>' WITH KMS = '<uri>';
  SHOW BACKUP KEYS FROM <subdir|LATEST> IN '<collection>' [WITH KMS = '<uri>'];
  ALTER BACKUP <subdir|LATEST|ALL> IN '<collection>' ADD NEW_KMS = '<uri>' WITH OLD_KMS = '<uri>';
  SHOW KMS RETIREMENT '<old uri>' IN '<collection>' [, ...] WITH KMS = '<remaining uri>';
Keys: Tab completes (subdirectories are listed in the background), Ctrl+R searches history,
Right arrow takes a suggestion from history, Ctrl+C clears the input or cancels a running
statement, Ctrl+D or \\q quits.
Commands: \\? this help, \\q quit."""

SHELL_STYLE = {
    "pygments.literal.string.uri.secret": "reverse",  # a secret (drawn as bullets) stands out
    "bottom-toolbar": "noreverse bg:#303030 #d0d0d0",
    "bottom-toolbar.error": "noreverse bg:#5f0000 #ffffff",
    "bottom-toolbar.warning": "noreverse bg:#5f5f00 #ffffff",
}


class MaskSecrets(Processor):
    """Draw every character of a secret as "•": the values syntax.tokens marks secret (URI
    values, passwords, ENCRYPTION_PASSPHRASE) in the whole input read as one text, and in the
    history suggestion shown after it, read in the context of the input (the suggestion of an
    earlier statement typed in this session holds its secrets as typed). The buffer keeps the
    typed text; only the terminal never receives it. One character for one, so the cursor needs
    no position mapping."""

    def __init__(self) -> None:
        self._cache: tuple[str, list[tuple[int, int]]] = ("", [])

    def spans(self, text: str) -> list[tuple[int, int]]:
        if self._cache[0] != text:
            self._cache = (text, secret_spans_of(text))
        return self._cache[1]

    def apply_transformation(self, ti: TransformationInput) -> Transformation:
        doc = ti.document
        suggestion = ti.buffer_control.buffer.suggestion
        tail = suggestion.text if suggestion is not None and doc.is_cursor_at_the_end else ""
        spans = self.spans(doc.text + tail)
        if not spans:
            return Transformation(ti.fragments)
        pos = doc.translate_row_col_to_index(ti.lineno, 0)
        fragments: StyleAndTextTuples = []
        for fragment in ti.fragments:
            style, text = fragment[0], fragment[1]
            if "[ZeroWidthEscape]" in style:
                fragments.append(fragment)
                continue
            chars = list(text)
            for i, c in enumerate(chars):
                if c != "\n" and _inside(spans, pos + i):
                    chars[i] = "•"
            pos += len(text)
            fragments.append((style, "".join(chars), *fragment[2:]))
        return Transformation(fragments)


def secret_spans_of(text: str) -> list[tuple[int, int]]:
    """Offsets of the secret pieces of `text` (syntax's tokenizer decides, as for redaction)."""
    return [
        (t.start, t.end)
        for t in tokenize(text, split_uris=True)
        if (t.kind is TokenKind.URI_SECRET or t.kind is TokenKind.SECRET)
        and t.text not in _ALREADY_REDACTED  # a statement recalled from the history file
    ]


_ALREADY_REDACTED = frozenset({REDACTED, HIDDEN.strip("'")})


def _inside(spans: list[tuple[int, int]], pos: int) -> bool:
    i = bisect.bisect_right(spans, (pos, float("inf"))) - 1
    return i >= 0 and spans[i][0] <= pos < spans[i][1]


def run_shell(settings: Settings) -> int:
    """Run the shell until \\q or Ctrl+D (tui.cli.main calls this with its settings); 2 when
    there is no terminal."""
    if not (isatty(sys.stdin) and isatty(sys.stdout)):
        print(
            "rewrap shell needs a terminal; for scripts use `rewrap -e SQL`, `rewrap -f FILE` "
            "or pipe SQL into `rewrap`",
            file=sys.stderr,
        )
        return EXIT_USAGE
    from engine.rewrap.journal import AuditJournal

    executor = Executor(
        kms_env=settings.kms_env,
        settings=settings.engine,
        journal=AuditJournal(settings.audit_log),
    )
    return Shell(executor, history=History(settings.history_path)).run()


def input_is_complete(text: str) -> bool:
    """Whether Enter should run the input: empty, a `\\` command or quit word, or SQL whose last
    real token is `;` (a `;` inside a string or comment does not count)."""
    stripped = text.strip()
    if not stripped or stripped.startswith("\\") or stripped.lower() in QUIT_WORDS:
        return True
    return ends_statement(text)


def kms_uris(stmt: ast.Statement) -> list[str]:
    """The KMS URIs a statement names, for completion later in the session (memory only)."""
    values: list[Any] = []
    if isinstance(stmt, ast.AlterBackup):
        for command in stmt.commands:
            values += [*command.new_kms, *command.old_kms]
    elif isinstance(stmt, ast.ShowBackup):
        values += stmt.options.kms or ()
    elif isinstance(stmt, ast.ShowBackupKeys):
        values += stmt.kms or ()
    elif isinstance(stmt, ast.ShowKMSRetirement):
        values += [stmt.old_kms, *stmt.kms]
    return [v for v in values if isinstance(v, str)]


def remembered_kms_uris(entries: Sequence[str]) -> list[str]:
    """KMS URIs of earlier sessions' statements (history entries, newest last), newest first,
    for completion: only those without a secret, since the history holds them redacted."""
    from syntax.uri import contains_secret

    seen: list[str] = []
    for text in reversed(entries):
        try:
            statements = parse(text)
        except SQLSyntaxError:
            continue
        for stmt in statements:
            seen += [u for u in kms_uris(stmt) if u not in seen and not contains_secret(u)]
    return seen


def continuation(width: int, line_number: int, wrap_count: int) -> str:
    """`->` before each new line of a statement, as `cockroach sql`; blank on a soft wrap."""
    return " " * width if wrap_count else "-> ".rjust(width)


def key_bindings() -> KeyBindings:
    kb = KeyBindings()

    @kb.add("enter", filter=completion_is_selected)
    def _accept_completion(event: KeyPressEvent) -> None:
        """Enter on a highlighted completion takes it (as pgcli), instead of a new line."""
        event.current_buffer.complete_state = None

    return kb


class Shell:
    """One session: the prompt, the executor, the KMS URIs used so far, the subdir cache."""

    def __init__(
        self,
        executor: Executor,
        *,
        out: TextIO | None = None,
        err: TextIO | None = None,
        history: History | None = None,
    ) -> None:
        self.executor = executor
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        shell_history = ShellHistory(history)
        self.kms_seen: list[str] = remembered_kms_uris(shell_history.store.entries())
        # One cached storage per collection, closed when the shell ends; SubdirCache keeps the
        # names (and their age), so the service keeps no listing of its own (max_age=0).
        self.inspector = Inspector(executor.open_storage, max_age=0)
        self.subdirs = SubdirCache(self.inspector.subdirs, on_loaded=self._subdirs_loaded)
        self._diag_cache: tuple[str, list[Any]] = ("", [])
        self.session: PromptSession[str] = PromptSession(
            message=PROMPT,
            multiline=Condition(lambda: not input_is_complete(self.session.default_buffer.text)),
            prompt_continuation=continuation,
            key_bindings=key_bindings(),
            lexer=PygmentsLexer(RewrapLexer),
            completer=ThreadedCompleter(SQLCompleter(self.subdirs, lambda: self.kms_seen)),
            complete_while_typing=True,
            history=shell_history,
            auto_suggest=AutoSuggestFromHistory(),
            bottom_toolbar=self.toolbar,
            input_processors=[MaskSecrets()],
            style=merge_styles(
                [style_from_pygments_cls(get_style_by_name("native")), Style.from_dict(SHELL_STYLE)]
            ),
            include_default_pygments_style=False,
        )

    # -- the loop --------------------------------------------------------------------------------

    def run(self) -> int:
        try:
            return self._loop()
        finally:
            self.inspector.close()

    def _loop(self) -> int:
        self.err.write("rewrap shell: end statements with ';'. \\? for help, \\q to quit.\n")
        while True:
            try:
                text = self.session.prompt()
            except KeyboardInterrupt:
                continue  # Ctrl+C at the prompt clears the input, as in pgcli
            except EOFError:
                return EXIT_OK
            if not self.handle(text):
                return EXIT_OK

    def handle(self, text: str) -> bool:
        """Run one input; False means quit."""
        stripped = text.strip()
        if not stripped:
            return True
        if stripped.lower() in QUIT_WORDS:
            return False
        if stripped.startswith("\\"):
            return self.command(stripped)
        self.run_script(text)
        return True

    def command(self, text: str) -> bool:
        name = text.split()[0]
        if name in ("\\?", "\\h", "\\help"):
            self.out.write(HELP + "\n")
        else:
            self.err.write(f"unknown command {name}: \\? lists the commands\n")
        return True

    def run_script(self, text: str) -> None:
        try:
            statements = parse(text)
        except SQLSyntaxError as e:
            self.err.write(f"ERROR: {redact_text(str(e))}\n")
            return
        for stmt in statements:
            for uri in kms_uris(stmt):
                if uri in self.kms_seen:
                    self.kms_seen.remove(uri)
                self.kms_seen.insert(0, uri)
            if not self.run_statement(stmt):
                return  # like cockroach sql: the rest of the input does not run after an error

    # -- one statement in a worker thread --------------------------------------------------------

    def run_statement(self, stmt: ast.Statement) -> bool:
        """Run `stmt` off the main thread so Ctrl+C reaches us; True if it succeeded."""
        cancel = CancelToken()
        is_alter = isinstance(stmt, ast.AlterBackup)
        checking = isinstance(stmt, ast.ShowBackup) and bool(stmt.options.check_files)
        bar = ShellProgress(self.err) if (is_alter or checking) and isatty(self.err) else None
        sink: ProgressSink = bar if bar is not None else ignore
        box: dict[str, Any] = {}
        finished = threading.Event()

        def work() -> None:
            try:
                box["result"] = self.executor.run(stmt, progress=sink, cancel=cancel)
            except BaseException as e:  # noqa: BLE001 - the session must survive our own bugs
                box["error"] = safe_error(e)
            finally:
                finished.set()

        # Wait on an Event, not Thread.join: on CPython 3.11 a KeyboardInterrupt inside join()
        # can leave the thread looking finished while it still runs (seen in tests/shell).
        started = time.monotonic()
        threading.Thread(target=work, name="rewrap-statement", daemon=True).start()
        while not finished.is_set():
            try:
                finished.wait(0.05)
            except KeyboardInterrupt:
                if not is_alter:
                    # A read has no side effects: abandon it (its thread ends on its own;
                    # CHECK_FILES stops at its next 1 MiB batch).
                    cancel.cancel()
                    if bar is not None:
                        bar.detach(self.print_above)
                    self.err.write("\nCancelled.\n")
                    return False
                if not cancel.cancelled:
                    cancel.cancel()
                    note = (
                        "cancelling: backups in progress stop at their next step, none half-written "
                        "(Ctrl+C again to return to the prompt now)"
                    )
                    if bar is not None:
                        bar.message(note)
                    else:
                        self.err.write(note + "\n")
                else:
                    # A KMS or storage call may be stuck: stop waiting. The worker still stops at
                    # its next step boundary (a write in flight completes atomically or not at all).
                    if bar is not None:
                        bar.detach(self.print_above)  # its late lines go above the prompt
                    self.err.write(
                        "\nReturned to the prompt; the cancelled ALTER BACKUP finishes its current "
                        "step in the background and writes nothing more.\n"
                    )
                    return False
        if bar is not None:
            bar.close()
        if "error" in box:
            self.err.write(f"ERROR: {redact_text(str(box['error']))}\n")
            return False
        return self.show(box["result"], cancelled=cancel.cancelled, elapsed=time.monotonic() - started)

    def show(self, result: Result, *, cancelled: bool = False, elapsed: float | None = None) -> bool:
        for notice in result.notices:
            self.err.write(f"WARNING: {redact_text(notice)}\n")
        write_table(self.out, result.columns, result.rows)
        if elapsed is not None:  # as `cockroach sql` follows its results
            self.out.write(f"\nTime: {elapsed:.3f}s\n\n")
        self.out.flush()
        if cancelled:
            self.err.write("ALTER BACKUP cancelled: backups marked 'cancelled' were not changed\n")
            return False
        if result.error is not None:
            self.err.write(f"ERROR: {redact_text(result.error)}\n")
            return False
        if result.report is not None and result.ok:  # SHOW KMS RETIREMENT: say it plainly
            self.err.write(f"'{result.report.old.uri}' can be retired: every backup opens with a remaining key\n")
        if not result.ok:
            failed = [r for r in result.rows if r[1] == "failed"]
            self.err.write(f"ERROR: {len(failed)} of {len(result.rows)} backups failed\n")
            return False
        return True

    def print_above(self, line: str) -> None:
        """A line from a background thread (a statement the user stopped waiting for): above
        the prompt when one is showing (run_in_terminal), so it never garbles the input."""
        app = self.session.app
        loop = getattr(app, "loop", None)
        if app.is_running and loop is not None:

            def write() -> None:
                self.err.write(line + "\n")
                self.err.flush()

            loop.call_soon_threadsafe(lambda: run_in_terminal(write))
        else:
            self.err.write(line + "\n")
            self.err.flush()

    # -- what the prompt shows -------------------------------------------------------------------

    def toolbar(self) -> StyleAndTextTuples:
        """Live diagnostics for the input (first one, with its position), else a key hint."""
        text = self.session.default_buffer.text
        if not text.strip():
            return [("class:bottom-toolbar", " \\? help  Tab complete  Ctrl+R search history  \\q quit")]
        if self._diag_cache[0] != text:
            self._diag_cache = (text, diagnose(text, check_kms_uri=check_kms_uri))
        diags = self._diag_cache[1]
        if not diags:
            hint = " ok: Enter runs" if input_is_complete(text) else " ok: end with ; to run"
            return [("class:bottom-toolbar", hint)]
        d = diags[0]
        line = text.count("\n", 0, d.start) + 1
        col = d.start - (text.rfind("\n", 0, d.start) + 1) + 1
        more = f"  (+{len(diags) - 1} more)" if len(diags) > 1 else ""
        style = "class:bottom-toolbar.error" if d.severity == "error" else "class:bottom-toolbar.warning"
        first_line = d.message.splitlines()[0] if d.message else d.code
        return [(style, f" {line}:{col} {d.severity}: {first_line}{more}")]

    # -- subdirectory completion -----------------------------------------------------------------

    def _subdirs_loaded(self, uri: str) -> None:
        """Called from the listing thread: reopen the menu with the names now known (after a
        beat, since prompt_toolkit drops a completion request while one is in flight)."""
        app = self.session.app
        loop = getattr(app, "loop", None)
        if not app.is_running or loop is None:
            return

        def refresh() -> None:
            buffer = self.session.default_buffer
            if get_app().is_running and buffer.text:
                buffer.start_completion(select_first=False)

        loop.call_soon_threadsafe(loop.call_later, REFRESH_DELAY, refresh)
