"""`<config dir>/config.toml`: the settings a user keeps, under the `REWRAP_*` environment and
the flags (tui/settings.py applies the order).

The config dir is `$XDG_CONFIG_HOME/rewrap`, else `~/.config/rewrap` (platformdirs' user config
dir off Linux). Every key is optional; an unknown key is an error (a typo must not pass
silently), and so is a value of the wrong type: each error names the file and the key.

    theme = "textual-light"          # a Textual theme name; kept when picked in the palette
    external_io_dir = "/srv/extern"  # nodelocal:// root
    concurrency = 4                  # backups rewrapped at once (1..256)
    kms_timeout = 10                 # seconds
    storage_timeout = 15             # seconds

There is no editor keymap setting: the editor has one keymap.
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path

CONFIG_NAME = "config.toml"
XDG_CONFIG_HOME = "XDG_CONFIG_HOME"

# key -> (accepted types, what the error says it must be)
KEYS: dict[str, tuple[tuple[type, ...], str]] = {
    "theme": ((str,), "a theme name (a string)"),
    "external_io_dir": ((str,), "a directory path (a string)"),
    "concurrency": ((int,), "a whole number"),
    "kms_timeout": ((int, float), "a number of seconds"),
    "storage_timeout": ((int, float), "a number of seconds"),
}


class ConfigError(ValueError):
    """config.toml cannot be read or holds a bad key or value; the message names the file."""


def config_path(environ: Mapping[str, str]) -> Path | None:
    """Where config.toml is for this environment; None when it names no home at all (a bare
    environment, as tests pass: then no file is read)."""
    xdg = environ.get(XDG_CONFIG_HOME)
    if xdg and Path(xdg).is_absolute():  # the XDG spec: a relative value is ignored
        return Path(xdg) / "rewrap" / CONFIG_NAME
    home = environ.get("HOME")
    if not home:
        return None
    if sys.platform.startswith("linux"):
        return Path(home) / ".config" / "rewrap" / CONFIG_NAME
    from platformdirs import user_config_path

    return user_config_path("rewrap") / CONFIG_NAME


def read_config(path: Path | None) -> dict[str, object]:
    """The checked keys of `path`; {} when there is no file (nothing to configure)."""
    if path is None:
        return {}
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a config file") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror or e}") from None
    try:
        table = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: is not UTF-8 text (byte {e.start})") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: is not valid TOML: {e}") from None
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise ConfigError(
            f"{path}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}"
            f" (known: {', '.join(KEYS)})"
        )
    for key, value in table.items():
        types, what = KEYS[key]
        if isinstance(value, bool) or not isinstance(value, types):
            raise ConfigError(f"{path}: {key} must be {what}, not {_toml(value)}")
        if isinstance(value, str) and (not value or "\0" in value):
            raise ConfigError(f"{path}: {key} must be {what}, not {_toml(value)}")
    return table


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (dict, list)):
        return "a table" if isinstance(value, dict) else "an array"
    return repr(value)


_KEY_LINE = re.compile(r"^\s*(?P<key>[A-Za-z0-9_-]+|\"[^\"]*\")\s*=")


def with_key(text: str, key: str, value: str) -> str:
    """`text` (a config.toml) with `key = value` (a string) set: its line replaced, or appended;
    comments and the other keys kept as written."""
    line = f"{key} = {json.dumps(value, ensure_ascii=False)}"  # a JSON string is a TOML basic string
    lines = text.splitlines()
    for i, old in enumerate(lines):
        m = _KEY_LINE.match(old)
        if m and m["key"].strip('"') == key:
            lines[i] = line
            break
    else:
        lines.append(line)
    return "\n".join(lines) + "\n"


def save_key(path: Path, key: str, value: str) -> None:
    """Set one string key in config.toml atomically (engine.paths.write_private), the rest kept.
    ConfigError when the file there is not one we can read (it is then left alone)."""
    from engine.paths import write_private

    before = read_config(path)  # refuse to rewrite a file that would not load
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        text = ""
    new = with_key(text, key, value)
    try:
        same = tomllib.loads(new) == {**before, key: value}  # that key changed, nothing else
    except tomllib.TOMLDecodeError:
        same = False
    if not same:  # never write what would not read back
        raise ConfigError(f"{path}: cannot set {key} without rewriting the file by hand")
    write_private(path, new.encode("utf-8"))
