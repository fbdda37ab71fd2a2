"""Pebble's own test files (tests/fixtures/pebble, see SOURCES.md there): SSTs Pebble wrote, and
its datadriven testdata, whose binfmt dumps ("012-016: x 1b000000 # ...") give byte-exact block
layouts. Parsing those dumps back to bytes lets our decoders read what Pebble's encoders wrote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pebble"
PEBBLE_COMMIT = "f82e3ff74d10b1f33df146eefc5661518f868542"

_FIELD = re.compile(r"(\d+)-(\d+): ([xb])((?: [0-9a-f]+)?)")


def fixture(path: str) -> bytes:
    return (FIXTURES / path).read_bytes()


@dataclass(frozen=True)
class Case:
    """One datadriven case: command line, input lines, expected output."""

    command: str
    input: list[str]
    output: str


def cases(path: str) -> list[Case]:
    """Split a datadriven file (cockroachdb/datadriven) into its cases."""
    out: list[Case] = []
    lines = (FIXTURES / path).read_text().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip() or line.startswith("#"):
            i += 1
            continue
        command = line
        i += 1
        inputs = []
        while i < len(lines) and lines[i] != "----":
            inputs.append(lines[i])
            i += 1
        i += 1  # the ---- line
        body = []
        while i < len(lines) and lines[i] != "":
            body.append(lines[i])
            i += 1
        out.append(Case(command, inputs, "\n".join(body)))
    return out


def binfmt_bytes(output: str) -> bytes:
    """The bytes a binfmt dump describes: every "start-end: x HEX" / "b BITS" field placed at its
    offsets (offsets are relative to the dump's first byte). Every byte must be covered."""
    fields = []
    for line in output.split("\n"):
        m = _FIELD.search(line)
        if not m:
            continue
        start, end, kind, value = int(m[1]), int(m[2]), m[3], m[4].strip()
        if kind == "x":
            raw = bytes.fromhex(value)
        else:  # bits, one MSB-first group of 8 per byte in file order
            raw = bytes(int(value[k : k + 8], 2) for k in range(0, len(value), 8))
        if len(raw) != end - start:
            raise ValueError(f"field {start}-{end} holds {len(raw)} bytes: {line!r}")
        fields.append((start, raw))
    size = max(start + len(raw) for start, raw in fields)
    buf = bytearray(size)
    covered = bytearray(size)
    for start, raw in fields:
        buf[start : start + len(raw)] = raw
        covered[start : start + len(raw)] = b"\x01" * len(raw)
    if not all(covered):
        raise ValueError("the dump leaves bytes undescribed")
    return bytes(buf)
