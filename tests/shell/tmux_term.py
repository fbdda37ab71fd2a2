"""A real terminal for end-to-end shell tests: tmux on a private socket, read back as a screen.

tmux answers prompt_toolkit's cursor-position requests like a person's terminal does, so the
bottom toolbar and completion menu render as they would for a user, and `capture-pane` gives
the screen as text to assert on.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import time
import uuid
from collections.abc import Mapping, Sequence

EXIT_MARK = "[rewrap exited "
# pytest-xdist sets COLUMNS/LINES (80x24); a tmux server started with them hands them to the
# program, and Textual obeys them rather than the window's size.
TMUX_ENV = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}


class Terminal:
    def __init__(self, argv: Sequence[str], env: Mapping[str, str], *, width: int = 160, height: int = 40) -> None:
        self.socket = f"rewrap-test-{uuid.uuid4().hex[:10]}"
        # `trap : INT`: Ctrl+C reaches the whole foreground process group; the wrapper shell must
        # outlive it (a no-op trap, unlike an ignored signal, is not inherited by the program).
        command = f"trap : INT; {shlex.join(argv)}; echo '{EXIT_MARK}'$?']'; sleep 600"
        env_args = [a for k, v in env.items() if k not in ("COLUMNS", "LINES") for a in ("-e", f"{k}={v}")]
        self.tmux(
            "new-session", "-d", "-s", "t", "-x", str(width), "-y", str(height), *env_args,
            "sh", "-c", command,
        )

    def tmux(self, *args: str) -> str:
        p = subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True, text=True, timeout=10, env=TMUX_ENV,
        )
        if p.returncode != 0:
            raise RuntimeError(f"tmux {args[0]}: {p.stderr.strip()}")
        return p.stdout

    def type(self, text: str) -> None:
        """Literal characters, as if typed."""
        if text.endswith(";"):  # tmux reads a trailing `;` as its command separator; `\;` is literal
            text = text[:-1] + "\\;"
        self.tmux("send-keys", "-t", "t", "-l", text)

    def keys(self, *names: str) -> None:
        """tmux key names: Enter, Tab, Up, Left, C-c, C-r, C-d, ..."""
        self.tmux("send-keys", "-t", "t", *names)

    def screen(self, history: int = 0) -> str:
        """The visible screen, plus `history` lines of scrollback above it."""
        args = ["-S", f"-{history}"] if history else []
        return self.tmux("capture-pane", "-p", "-t", "t", *args)

    def wait_for(self, pattern: str, *, timeout: float = 15.0, history: int = 200) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen(history)
            m = re.search(pattern, screen)
            if m:
                return m
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} not on screen after {timeout}s:\n{screen}")
            time.sleep(0.05)

    def wait_gone(self, pattern: str, *, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while re.search(pattern, self.screen()):
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} still on screen after {timeout}s:\n{self.screen()}")
            time.sleep(0.05)

    def wait_for_input(self, pattern: str, *, prompt: str = "rewrap> ", timeout: float = 15.0) -> str:
        """Wait until the last prompt line on screen (the one being edited) matches `pattern`."""
        deadline = time.monotonic() + timeout
        while True:
            lines = [line for line in self.screen().splitlines() if line.startswith(prompt.rstrip())]
            if lines and re.search(pattern, lines[-1]):
                return lines[-1]
            if time.monotonic() > deadline:
                raise AssertionError(f"input {pattern!r} not on screen after {timeout}s:\n{self.screen()}")
            time.sleep(0.05)

    def exit_status(self, timeout: float = 15.0) -> int:
        m = self.wait_for(re.escape(EXIT_MARK) + r"(\d+)\]", timeout=timeout)
        return int(m.group(1))

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=10)
