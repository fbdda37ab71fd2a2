"""Remembered collections: `<data>/collections.json`, mode 0600, secrets stripped.

| file                      | written by                         | read by           | mode |
|---------------------------|------------------------------------|-------------------|------|
| `<data>/collections.json` | the TUI when a collection is added | the TUI at start  | 0600 |

Every parameter whose value redaction would hide (syntax.uri.is_secret_param: any not known to be
public, whatever its case) is removed from the URI before it is stored, and only its *name* is
kept, so that next time the app knows to ask for it instead of failing. A userinfo password is
dropped the same way (as the pseudo-parameter `password`). What is written is checked against
syntax.uri.contains_secret, the one redaction's own test, before it touches the disk.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from engine.paths import write_private
from syntax.uri import contains_secret, parse_uri, redact_uri

FILE_NAME = "collections.json"
USERINFO_PASSWORD = "password"


def store_path() -> Path:
    from engine.paths import data_dir

    return data_dir() / FILE_NAME


@dataclass(frozen=True)
class Remembered:
    """A stored collection: its URI without secret values, and the names of what was removed."""

    uri: str
    secrets: tuple[str, ...] = field(default=())

    def with_secrets(self, values: dict[str, str]) -> str:
        """The usable URI, given a value for every name in `secrets` (kept in memory only)."""
        uri = self.uri
        for name in self.secrets:
            if name == USERINFO_PASSWORD:
                scheme, _, rest = uri.partition("://")
                user, at, host = rest.partition("@")
                uri = f"{scheme}://{user}:{quote(values[name], safe='')}{at}{host}"
                continue
            sep = "&" if "?" in uri else "?"
            uri = f"{uri}{sep}{name}={quote(values[name], safe='')}"
        return uri


def strip_secrets(uri: str) -> Remembered:
    """Split `uri` into what may be stored and the names of the secret values it held."""
    parsed = parse_uri(uri)
    names: list[str] = []
    out = uri
    for p in sorted(parsed.params, key=lambda p: p.name_start, reverse=True):
        if p.secret:
            start = p.name_start - 1  # the '?' or '&' before the pair
            out = out[:start] + out[p.value_end :]
            if p.name not in names:
                names.insert(0, p.name)
    if "?" not in out and "&" in out:  # the first pair went: its '&' successor becomes '?'
        out = out.replace("&", "?", 1)
    scheme, sep, rest = out.partition("://")
    if sep:
        authority, slash, tail = rest.partition("/")
        if "@" in authority:
            userinfo, _, host = authority.rpartition("@")
            if ":" in userinfo:
                out = f"{scheme}://{userinfo.split(':', 1)[0]}@{host}{slash}{tail}"
                names.append(USERINFO_PASSWORD)
    if contains_secret(out):  # a form the stripping above does not know: store it redacted
        out = redact_uri(out)
    return Remembered(out, tuple(names))


class CollectionStore:
    """The remembered collections, oldest first; `add` is idempotent on the stored form."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or store_path()

    def load(self) -> list[Remembered]:
        try:
            raw = json.loads(self.path.read_text())
        except (FileNotFoundError, json.JSONDecodeError, OSError):
            return []
        out = []
        for item in raw if isinstance(raw, list) else []:
            if isinstance(item, dict) and isinstance(item.get("uri"), str):
                secrets = tuple(s for s in item.get("secrets", ()) if isinstance(s, str))
                out.append(Remembered(item["uri"], secrets))
        return out

    def add(self, uri: str) -> Remembered:
        entry = strip_secrets(uri)
        items = self.load()
        if all(i.uri != entry.uri for i in items):
            items.append(entry)
            self._write(items)
        return entry

    def remove(self, stored_uri: str) -> None:
        self._write([i for i in self.load() if i.uri != stored_uri])

    def _write(self, items: list[Remembered]) -> None:
        data = json.dumps([{"uri": i.uri, "secrets": list(i.secrets)} for i in items], indent=1)
        write_private(self.path, data.encode())  # 0600, atomic and durable
