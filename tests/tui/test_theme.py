"""Themes: config.toml's theme is the one the console starts with; a theme picked in the command
palette is written back there (other keys kept) and used at the next start; the SQL colours
come from the active theme and stay readable on it (tui/app/widgets/highlight.py)."""

from __future__ import annotations

import os
from pathlib import Path

from textual.color import Color

from tui.app.widgets.highlight import contrast, theme_styles
from tui.settings import load_settings

SQL = "SHOW BACKUPS IN 's3://bucket.example.com/p?AUTH=implicit' WITH x = 1;\n"


def _config(tui_env: Path) -> Path:
    return tui_env / "config" / "rewrap" / "config.toml"


async def _pick_theme(pilot, name: str) -> None:
    """Ctrl+P, the palette's Theme command, then the theme by name."""
    await pilot.press("ctrl+p")
    await pilot.pause()
    await pilot.press(*"theme")
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()
    await pilot.press(*name)
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()


async def test_a_picked_theme_is_kept_for_the_next_start(make_app, tui_env: Path) -> None:
    path = _config(tui_env)
    path.parent.mkdir(parents=True)
    path.write_text("# mine\nkms_timeout = 12\n")
    app = make_app(demo=False, settings=load_settings(None, os.environ))
    async with app.run_test() as pilot:
        assert app.theme == "textual-dark"
        await _pick_theme(pilot, "textual-light")
        assert app.theme == "textual-light"
    assert path.read_text() == '# mine\nkms_timeout = 12\ntheme = "textual-light"\n'
    again = make_app(demo=False, settings=load_settings(None, os.environ))
    async with again.run_test() as pilot:
        await pilot.pause()
        assert again.theme == "textual-light"
        assert again.settings.engine.limits.kms_timeout == 12.0


def test_an_unknown_theme_in_config_is_a_usage_error(tui_env: Path, capsys) -> None:
    from tui.app.main import run_app

    path = _config(tui_env)
    path.parent.mkdir(parents=True)
    path.write_text('theme = "no-such-theme"\n')
    assert run_app(load_settings(None, os.environ)) == 2
    err = capsys.readouterr().err
    assert f"{path}: theme 'no-such-theme' is not a theme (known: " in err and "textual-light" in err


def _painted(editor, row: int, text: str) -> Color:
    """The colour the editor's painter gives the token `text` on `row` (the last one: the
    URI's `=` comes first): its highlight span's style in the editor's TextAreaTheme."""
    column = editor.document.lines[row].rindex(text)
    names = [name for start, end, name in editor._highlights[row]
             if start <= column and (end is None or column < end)]
    assert names, (text, editor._highlights[row])
    colour = editor._theme.syntax_styles[names[-1]].color
    assert colour is not None, (text, names)
    return Color.from_rich_color(colour)


async def test_sql_colours_follow_the_theme_and_stay_readable(make_app) -> None:
    app = make_app(demo=False)
    async with app.run_test() as pilot:
        editor = app.query_one("#editor")
        editor.load_text(SQL)
        await pilot.pause()
        dark = {t: _painted(editor, 0, t) for t in ("=", ";", "bucket.example.com")}
        app.theme = "textual-light"
        await pilot.pause()
        background = Color.parse(app.get_css_variables()["surface"])
        light = {t: _painted(editor, 0, t) for t in ("=", ";", "bucket.example.com")}
        for token, colour in light.items():
            assert contrast(colour, background) >= 3, (token, colour.hex, background.hex)
            assert colour != dark[token], token
        # the dark theme's colours would be nearly invisible here (what this fixes)
        assert min(contrast(c, background) for c in dark.values()) < 2


def test_every_builtin_theme_gets_readable_tokens() -> None:
    from textual.app import App
    from textual.theme import BUILTIN_THEMES

    checked: list[str] = []
    for name in BUILTIN_THEMES:
        app = App()
        app.theme = name
        variables = app.get_css_variables()
        background = Color.parse(variables["surface"])
        if background.ansi is not None:
            continue  # ANSI themes: the terminal's own palette, no colours to compare
        checked.append(name)
        for span, style in theme_styles(variables).items():
            if span == "rewrap.secret":
                continue  # painted on its own background
            assert style.color is not None
            if style.color.is_system_defined:
                continue  # an ANSI colour: the terminal's palette decides
            ratio = contrast(Color.from_rich_color(style.color), background)
            assert ratio >= 3, (name, span, style.color.name, ratio)
    assert "textual-light" in checked and "textual-dark" in checked
