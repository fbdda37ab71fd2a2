"""The SQL editor: a TextArea coloured by syntax/'s tokens, with completion, live diagnostics,
run-the-statement-under-the-cursor and history recall.

Typed text stays exactly as typed: no auto-closing quotes or brackets (TextArea has none with
`language=None`), and the dropdown only takes keys while it is open. The highlight hook
(`_build_highlight_map`, private in Textual 8.2) is covered by a snapshot test.

Colours are computed lazily: `_highlights` is a `LazyHighlights` map that asks the highlighter for
a row's spans when the painter first reads it (only visible rows are painted), and an edit only
forgets the rows from its first changed one on (`edit`, `_undo_batch`, `_redo_batch` note it).

`context` lets the rotation modal reuse the editor for a value list: completion and diagnostics
see `context + text`, so the same grammar answers and offsets are shifted back.
"""

from __future__ import annotations

from rich.text import Text
from rich.style import Style

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from textual.geometry import Region

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.timer import Timer
from textual.widgets import TextArea
from textual.widgets.text_area import Document, Edit, EditResult, Location, TextAreaTheme

from tui.app.widgets.completion import CompletionDropdown
from tui.app.widgets.highlight import EXTRA_STYLES, SECRET_STYLE, LineHighlighter, Span, theme_styles
from tui.app.widgets.completion import known_collections
from syntax.redact import redact_text

if TYPE_CHECKING:
    from syntax import Diagnostic
    from syntax.completion import Completion

# Completion, diagnostics, the formatter and the editor's dialogs are imported where they are
# used: an empty editor's first frame needs none of them (tests/tui/test_startup_imports.py).

THEME_NAME = "rewrap"
DIAGNOSE_DELAY = 0.12


def rewrap_theme(styles: dict[str, Style] | None = None) -> TextAreaTheme:
    """Textual's "css" theme (its base, cursor and gutter follow the app theme) with every span
    name's colour from `styles` (highlight.theme_styles of the app theme; before an app is
    known, Textual's default dark theme's)."""
    base = TextAreaTheme.get_builtin_theme("css")
    assert base is not None
    return TextAreaTheme(name=THEME_NAME, syntax_styles={**base.syntax_styles, **(styles or EXTRA_STYLES)})


def statements_to_run(text: str, cursor: int, selection: tuple[int, int] | None = None) -> list[str]:
    """What F5 runs (syntax.statements_at: the one statement splitter decides)."""
    from syntax import statements_at

    return statements_at(text, cursor, selection)


class LazyHighlights(dict[int, list[Span]]):
    """TextArea's `_highlights`, filled a row at a time as the painter reads it
    (`_render_line` does `highlights[row]` for each visible row only)."""

    def __init__(self, compute: Callable[[int], list[Span]], lines: Callable[[], list[str]]) -> None:
        super().__init__()
        self._compute = compute
        self._lines = lines
        self.texts: dict[int, str] = {}  # each computed row's text then

    def __missing__(self, row: int) -> list[Span]:
        spans = self[row] = self._compute(row)
        lines = self._lines()
        if row < len(lines):
            self.texts[row] = lines[row]
        return spans

    def __bool__(self) -> bool:  # `if highlights and theme:` must paint rows not yet computed
        return True


class SQLEditor(TextArea):
    """rewrap's SQL editor."""

    class StatementsSubmitted(Message):
        """F5: run these statements' texts, in order."""

        def __init__(self, editor: SQLEditor, texts: list[str]) -> None:
            super().__init__()
            self.editor = editor
            self.texts = texts

        @property
        def control(self) -> SQLEditor:
            return self.editor

    class DiagnosticsUpdated(Message):
        """The text was re-checked: `count` problems, the first at the cursor (or overall)."""

        def __init__(self, editor: SQLEditor, count: int, message: str) -> None:
            super().__init__()
            self.editor = editor
            self.count = count
            self.message = message

        @property
        def control(self) -> SQLEditor:
            return self.editor

    BINDINGS = [
        Binding("f5", "run", "Run", priority=True),
        Binding("ctrl+j", "run", "Run", show=False, priority=True),
        Binding("ctrl+up", "history(-1)", "Older", show=False),
        Binding("ctrl+down", "history(1)", "Newer", show=False),
        # Ctrl+A selects all as in harlequin (Home still goes to the line start); the rest do
        # not clash with the app's F1-F5, Ctrl+P/Q/C/J, Esc, nor the rotation dialog's F5-F7.
        Binding("ctrl+a", "select_all", "Select all", show=False),
        Binding("ctrl+l", "clear", "Clear", show=False),
        Binding("ctrl+f", "format", "Format", show=False),
        Binding("f8", "history_browser", "History", show=False),
        Binding("ctrl+g", "problems", "Problems", show=False),
    ]
    STATUS_LINES = 3  # the status line wraps to this many lines, then ends in "…" (Ctrl+G: all)

    def __init__(
        self,
        text: str = "",
        *,
        dropdown: CompletionDropdown | None = None,
        subdirs: Callable[[str], Sequence[str]] | None = None,
        kms_history: Callable[[], Sequence[str]] | None = None,
        check_kms_uri: Callable[[str], str | None] | None = None,
        history: Callable[[], list[str]] | None = None,
        collections: Callable[[str], Sequence[str]] | None = None,
        context: str = "",
        suffix: str = "",
        runnable: bool = True,
        **kwargs: object,
    ) -> None:
        # Set before TextArea.__init__, which already builds the highlight map.
        self.dropdown = dropdown
        self.subdirs = subdirs
        self.kms_history = kms_history or (lambda: ())
        self.check_kms_uri = check_kms_uri
        self.history_source = history or (lambda: [])
        self.collections = collections  # None: the app's browser, its store, the external-IO dir
        self.context = context
        self.suffix = suffix
        self.runnable = runnable
        self.diagnostics: list[Diagnostic] = []
        self._highlighter = LineHighlighter()
        self._dirty_row: int | None = None  # first row changed since the last highlight pass
        self._marks: dict[int, list[Span]] = {}  # diagnostics' underlines, per row
        self._painted_lines = -1  # the document's line count when rendered lines were kept
        self._diag_timer: Timer | None = None
        self._diag_cache: dict[str, list[Diagnostic]] = {}
        self._history_index: int | None = None
        self._draft = ""
        super().__init__(text, language=None, soft_wrap=False, tab_behavior="focus", **kwargs)  # type: ignore[arg-type]
        self.register_theme(rewrap_theme())
        self.theme = THEME_NAME

    # -- colours ---------------------------------------------------------------------------

    def on_mount(self) -> None:
        self._app_theme_changed()  # the app's theme is known from here on

    def _app_theme_changed(self) -> None:  # Textual 8.2: TextArea's watch of App.theme
        """The span colours follow the app theme: rebuilt once per theme change (never per key),
        and every painted line drops its cached colours."""
        self.register_theme(rewrap_theme(theme_styles(self.app.get_css_variables())))
        self._line_cache.clear()
        super()._app_theme_changed()
        self.refresh()

    def _build_highlight_map(self) -> None:  # Textual 8.2 private hook (see module docstring)
        row, self._dirty_row = self._dirty_row, None
        # No edit noted (a new document, or a path we do not know): everything is new.
        self._highlighter.invalidate(self.document.lines, 0 if row is None else row)
        self._refresh_marks(keep_unchanged=row is not None)

    def _refresh_marks(self, keep_unchanged: bool = False) -> None:
        """Recompute the diagnostics' underlines and forget the rows painted so far; with
        `keep_unchanged`, a painted row whose text and colours are the same keeps its rendered
        line (TextArea re-renders every visible line after each edit otherwise)."""
        old = self._highlights
        if not isinstance(old, LazyHighlights):
            old = {}
        old_texts = getattr(old, "texts", {})
        old_rows = dict(old)
        self._highlights = LazyHighlights(self._row_highlights, lambda: self.document.lines)
        self._marks = {}
        lines = self.document.lines
        shift = len(self.context)
        for d in self.diagnostics:
            self._mark(lines, d.start - shift, d.end - shift, f"rewrap.diag.{d.severity}")
        if not keep_unchanged or not old_rows or len(old_rows) > 4 * max(1, self.size.height) + 8 \
                or len(lines) != self._painted_lines:
            self._painted_lines = len(lines)
            self._line_cache.clear()
            return
        keep = {r for r, spans in old_rows.items()
                if r < len(lines) and old_texts.get(r) == lines[r] and self._highlights[r] == spans}
        # Textual 8.2's line-cache key starts (size, scroll_x, row, ...) (TextArea.render_line).
        stale = [k for k in self._line_cache.keys()
                 if not (isinstance(k, tuple) and len(k) > 2 and k[2] in keep)]
        for k in stale:
            self._line_cache.discard(k)
        lines = self.document.lines
        shift = len(self.context)
        for d in self.diagnostics:
            self._mark(lines, d.start - shift, d.end - shift, f"rewrap.diag.{d.severity}")

    def _row_highlights(self, row: int) -> list[Span]:
        # The span lists are the highlighter's cached ones: shared, never mutated.
        spans = self._highlighter.row_spans(self.document.lines, row)
        marks = self._marks.get(row)
        return [*spans, *marks] if marks else spans

    def _note_dirty(self, row: int) -> None:
        self._dirty_row = row if self._dirty_row is None else min(row, self._dirty_row)

    def edit(self, edit: Edit) -> EditResult:
        self._note_dirty(edit.top[0])
        return super().edit(edit)

    def _undo_batch(self, edits: Sequence[Edit]) -> None:
        if edits:
            self._note_dirty(min(e.top[0] for e in edits))
        super()._undo_batch(edits)

    def _redo_batch(self, edits: Sequence[Edit]) -> None:
        if edits:
            self._note_dirty(min(e.top[0] for e in edits))
        super()._redo_batch(edits)

    def get_line(self, line_index: int) -> Text:
        """The line as painted: every character of a secret value drawn as "•" (the document
        keeps the real text; only the terminal never receives it)."""
        line = super().get_line(line_index)
        spans = [h for h in self._highlights[line_index] if h[2] == SECRET_STYLE]
        if not spans:
            return line
        raw = line.plain.encode()
        chars = list(line.plain)
        for start, end, _ in spans:
            a = len(raw[:start].decode(errors="ignore"))
            b = len(raw[:end].decode(errors="ignore")) if end is not None else len(chars)
            chars[a:b] = "•" * (b - a)
        masked = Text("".join(chars), end="", no_wrap=True)
        for span in line.spans:
            masked.spans.append(span)
        return masked

    def _mark(self, lines: list[str], start: int, end: int, name: str) -> None:
        size = len(self.text)
        if start < 0 or start > size or size == 0:
            return
        if start == size:  # a problem at the very end (e.g. "expected ..."): mark the last char
            start = size - 1
        end = min(max(start + 1, end), size)
        (r0, c0), (r1, c1) = self._loc(start), self._loc(end)
        if (r0, c0) == (r1, c1) or c0 >= len(lines[r0]) and r0 == r1:
            c0 = max(0, c0 - 1)  # a zero-width problem at the end: mark the last character
        for r in range(r0, r1 + 1):
            line = lines[r]
            s = c0 if r == r0 else 0
            e = c1 if r == r1 else len(line)
            span = (len(line[:s].encode()), len(line[:max(e, s + 1)].encode()), name)
            self._marks.setdefault(r, []).append(span)

    @property
    def _plain(self) -> Document:
        """The document, typed: TextArea declares a DocumentBase, and without a tree-sitter
        language it always holds a Document (which converts between index and location)."""
        doc = self.document
        assert isinstance(doc, Document)
        return doc

    def _loc(self, index: int) -> Location:
        return self._plain.get_location_from_index(index)

    @property
    def cursor_index(self) -> int:
        return self._plain.get_index_from_location(self.cursor_location)

    # -- diagnostics -----------------------------------------------------------------------

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if self._diag_timer is not None:
            self._diag_timer.stop()
        self._diag_timer = self.set_timer(DIAGNOSE_DELAY, self._start_diagnose)
        if self.dropdown is not None and self.dropdown.is_open:
            self.open_completion(keep_closed_if_empty=True)

    def _full_text(self) -> str:
        return self.context + self.text + self.suffix

    def _own(self, found: list[Diagnostic]) -> list[Diagnostic]:
        """Only problems inside this editor's own text (a modal field sees the whole statement)."""
        if not self.context and not self.suffix:
            return found
        lo, hi = len(self.context), len(self.context) + len(self.text)
        return [d for d in found if lo <= d.start <= hi and d.end <= hi]

    def _start_diagnose(self) -> None:
        text = self._full_text()
        chunks = self._chunks() if not (self.context or self.suffix) else [(0, len(text))]
        # The app's worker (one handler reports every worker's failure), one group per editor.
        self.app.run_worker(lambda: self._diagnose(text, chunks), thread=True, exclusive=True,
                            group=f"diagnose:{self.id or id(self)}", exit_on_error=False)

    def _chunks(self) -> list[tuple[int, int]]:
        """(start, end) of each `;`-terminated piece, from the highlighter's last pass, so a
        keystroke re-checks only the statement it changed (diagnose works per statement)."""
        starts, pos = [], 0
        for line in self.document.lines:
            starts.append(pos)
            pos += len(line) + 1
        cuts = [starts[r] + c + 1 for r, c in self._highlighter.all_semicolons(self.document.lines)]
        bounds = [0, *cuts, len(self.text)]
        return [(a, b) for a, b in zip(bounds, bounds[1:]) if b > a]

    def _diagnose(self, text: str, chunks: list[tuple[int, int]]) -> None:
        from syntax import diagnose

        found: list[Diagnostic] = []
        for a, b in chunks:
            piece = text[a:b]
            cached = self._diag_cache.get(piece)
            if cached is None:
                cached = diagnose(piece, check_kms_uri=self.check_kms_uri)
                if len(self._diag_cache) > 10_000:
                    self._diag_cache.clear()
                self._diag_cache[piece] = cached
            found += [replace(d, start=d.start + a, end=d.end + a) for d in cached]
        self.app.call_from_thread(self._apply_diagnostics, text, found)

    def _apply_diagnostics(self, text: str, found: list[Diagnostic]) -> None:
        if text != self._full_text():
            return  # stale: a newer run is coming
        self.diagnostics = self._own(found)
        self._refresh_marks(keep_unchanged=True)  # same text: the highlighter keeps its rows
        self.refresh()
        self.post_message(self.DiagnosticsUpdated(self, len(self.diagnostics), self.diagnostic_message()))

    def diagnostic_message(self) -> str:
        if not self.diagnostics:
            return ""
        cursor = self.cursor_index + len(self.context)
        here = [d for d in self.diagnostics if d.start <= cursor <= d.end]
        d = (here or self.diagnostics)[0]
        more = len(self.diagnostics) - 1
        tail = f"  (+{more} more, Ctrl+G)" if more > 0 else ""
        line, col = self._loc(max(0, d.start - len(self.context)))
        text = f"{d.severity}: {line + 1}:{col + 1}: {redact_text(d.message)}{tail}"
        # The status line is as wide as this panel (less its padding) and wraps; what does not
        # fit ends at a word with "…" and Ctrl+G lists every problem whole.
        from tui.app.widgets.editor_screens import fit_status

        return fit_status(text, self.outer_size.width - 2, self.STATUS_LINES)

    def problem_texts(self) -> list[tuple[int, str]]:
        """(offset in this editor's text, whole redacted message) of every problem."""
        out = []
        for d in self.diagnostics:
            start = max(0, d.start - len(self.context))
            line, col = self._loc(min(start, len(self.text)))
            out.append((start, f"{d.severity}: {line + 1}:{col + 1}: {redact_text(d.message)}"))
        return out

    def check_now(self) -> None:
        """Diagnose synchronously (tests, and before the rotation modal builds its statement)."""
        from syntax import diagnose

        text = self._full_text()
        self._apply_diagnostics(text, diagnose(text, check_kms_uri=self.check_kms_uri))

    # -- completion ------------------------------------------------------------------------

    def open_completion(self, keep_closed_if_empty: bool = False) -> None:
        if self.dropdown is None:
            return
        from syntax import complete

        cursor = self.cursor_index
        found = complete(
            self.context + self.text,
            cursor + len(self.context),
            subdirs=self.subdirs,
            kms_history=list(self.kms_history()),
            collections=self.collections or self._app_collections,
        )
        if not found:
            self.dropdown.close()
            if not keep_closed_if_empty:
                self.notify("no completions here", timeout=1.5)
            return
        self._place_dropdown(found)

    def _place_dropdown(self, found: list[Completion], again: bool = True) -> None:
        assert self.dropdown is not None
        region, inner = self.region, self.content_region
        if inner.height >= 4:  # inside this panel's border
            self.dropdown.show(found, self.cursor_screen_offset, inner)
        else:  # a field too low for a list (the rotation dialog's): below or above it, as wide
            screen = self.screen.region
            bounds = Region(inner.x, screen.y, inner.width, screen.height)
            self.dropdown.show(found, self.cursor_screen_offset, bounds, keep_clear=region)
        if again:  # a centred dialog may move when the list opens: follow it once
            self.call_after_refresh(self._follow_dropdown, region, found)

    def _follow_dropdown(self, region: Region, found: list[Completion]) -> None:
        if self.dropdown is not None and self.dropdown.is_open and self.region != region:
            self._place_dropdown(found, again=False)

    def _app_collections(self, typed: str) -> list[str]:
        """The collection slot's sources when none was given: the browser's collections, the
        remembered ones (tui/collections_store.py) and directories under the external-IO dir."""
        from tui.collections_store import strip_secrets

        app = self.app
        shown = sorted(getattr(app, "session_uris", lambda: set())())
        store = getattr(app, "store", None)
        stored = [r.uri for r in store.load()] if store is not None else []
        stripped = {strip_secrets(u).uri for u in shown}  # the browser's copy has the secrets
        remembered = [u for u in stored if u not in stripped]
        settings = getattr(app, "settings", None)
        io_dir = settings.engine.storage.external_io_dir if settings is not None else None
        return known_collections(typed, shown, remembered, io_dir)

    def accept_completion(self) -> None:
        assert self.dropdown is not None
        choice = self.dropdown.choice()
        self.dropdown.close()
        if choice is None:
            return
        shift = len(self.context)
        start, end = choice.start - shift, choice.end - shift
        if start < 0:
            return
        self.replace(choice.text, self._loc(start), self._loc(end))

    async def _on_key(self, event: events.Key) -> None:
        dd = self.dropdown
        if dd is not None and dd.is_open:
            handled = True
            if event.key == "up":
                dd.move(-1)
            elif event.key == "down":
                dd.move(1)
            elif event.key in ("enter", "tab"):
                self.accept_completion()
                # The line may now end past the right edge: scroll once its new width is known.
                self.call_after_refresh(self.scroll_cursor_visible)
            elif event.key == "escape":
                dd.close()
            elif event.key in ("pageup", "pagedown"):
                dd.move(-5 if event.key == "pageup" else 5)
            else:
                handled = False
            if handled:
                event.stop()
                event.prevent_default()
                return
        elif dd is not None and (
            event.key in ("ctrl+@", "ctrl+space") or (event.key == "tab" and self.runnable)
        ):  # in the rotation dialog's fields Tab moves to the next field; Ctrl+Space completes
            event.stop()
            event.prevent_default()
            self.open_completion()
            return
        await super()._on_key(event)

    def _on_blur(self, event: events.Blur) -> None:
        if self.dropdown is not None:
            self.dropdown.close()
        super()._on_blur(event)

    # -- editing keys: clear, format, history browser, problems --------------------------

    def action_clear(self) -> None:
        """Empty the buffer as one edit (Ctrl+Z brings it back)."""
        if self.text:
            self.replace("", (0, 0), self.document.end)

    def action_format(self) -> None:
        """Every statement in canonical form (syntax.format_statement), secrets as typed; one
        edit, so Ctrl+Z undoes it. Pieces that do not parse or hold comments stay as typed."""
        if not self.runnable:
            return  # a rotation field holds a value list, not statements
        from tui.app.widgets.buffer_format import format_buffer

        result = format_buffer(self.text)
        if result.text != self.text:
            self.replace(result.text, (0, 0), self.document.end)
        if result.kept:
            self.notify(f"{result.kept} statement(s) left as typed (they do not parse, or hold "
                        "a comment)", severity="warning", timeout=3)

    def action_history_browser(self) -> None:
        """F8: pick a history entry (redacted, newest first); Enter inserts it at the cursor."""
        if not self.runnable:
            return

        def chosen(entry: str | None) -> None:
            if entry:
                self.insert(entry)
            self.focus()

        from tui.app.widgets.editor_screens import HistoryBrowser

        self.app.push_screen(HistoryBrowser(self.history_source()), chosen)

    def action_problems(self) -> None:
        """Ctrl+G: every problem of the buffer, whole; Enter moves the cursor to it."""
        if not self.diagnostics:
            self.notify("no problems", timeout=1.5)
            return

        def chosen(offset: int | None) -> None:
            if offset is not None:
                self.move_cursor(self._loc(min(offset, len(self.text))))
            self.focus()

        from tui.app.widgets.editor_screens import ProblemsList

        self.app.push_screen(ProblemsList(self.problem_texts()), chosen)

    # -- running and history ---------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """F5 is not a key of a field that runs nothing (the rotation dialog's): not in its footer."""
        if action == "run" and not self.runnable:
            return False
        return super().check_action(action, parameters)

    def action_run(self) -> None:
        """F5 is a priority binding: the app runs it at once, while a paste that came before it
        may still wait in this widget's queue (Textual forwards Paste). Queued behind it, the
        run sees the pasted text."""
        self.call_later(self._run_now)

    def _run_now(self) -> None:
        if not self.runnable:
            return
        if self.dropdown is not None:
            self.dropdown.close()
        sel = self.selection
        lo = self._plain.get_index_from_location(sel.start)
        hi = self._plain.get_index_from_location(sel.end)
        texts = statements_to_run(self.text, self.cursor_index, (lo, hi))
        if texts:
            self.post_message(self.StatementsSubmitted(self, texts))
        else:
            self.notify("nothing to run: the editor is empty", severity="warning")

    def action_history(self, step: int) -> None:
        entries = self.history_source()
        if not entries:
            return
        if self._history_index is None:
            if step > 0:
                return
            self._draft = self.text
            index = len(entries) - 1
        else:
            index = self._history_index + step
        if index >= len(entries):
            self._history_index = None
            self.load_text(self._draft)
            self.move_cursor(self.document.end)
            return
        index = max(0, index)
        self._history_index = index
        self.load_text(entries[index])
        self.move_cursor(self.document.end)
