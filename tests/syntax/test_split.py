"""The one statement splitter (syntax/split.py): CockroachDB's `;` rules, and the three things
built on it (the shell's "run on Enter", F5's statement at the cursor, the batch reader)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syntax import SQLSyntaxError, ends_statement, parse, split_statements, statements_at
from syntax.split import pieces

A = "SHOW BACKUPS IN 'nodelocal://1/a'"
B = "SHOW BACKUPS IN 'nodelocal://1/b'"


@pytest.mark.parametrize(
    "text, parts",
    [
        (f"{A};{B}", [A, B]),
        (f"{A};;  ;\n{B};", [A, B]),
        ("SHOW BACKUPS IN 'a;b'; SHOW BACKUPS IN 'c'", ["SHOW BACKUPS IN 'a;b'", "SHOW BACKUPS IN 'c'"]),
        ("SHOW BACKUPS IN 'it''s; here'", ["SHOW BACKUPS IN 'it''s; here'"]),
        ("SHOW BACKUPS IN e'x\\';y'", ["SHOW BACKUPS IN e'x\\';y'"]),
        ('SHOW BACKUPS IN "odd;name"', ['SHOW BACKUPS IN "odd;name"']),
        (f"{A} -- a comment; not a cut\n;{B}", [A, B]),
        (f"{A} /* a ; /* nested ; */ still ; */;{B}", [A, B]),
        (f"{A}; SHOW BACKUPS IN 'open; never closed", [A, "SHOW BACKUPS IN 'open; never closed"]),
        (f"{A}; /* open ; {B}", [A, f"/* open ; {B}"]),  # a lexical error to the end
        ("", []),
        (" ;\n; -- only a comment", []),
    ],
)
def test_split_points(text: str, parts: list[str]) -> None:
    assert [text[s:e] for s, e in split_statements(text)] == parts


@pytest.mark.parametrize(
    "text, complete",
    [
        (f"{A};", True),
        (f"{A};  -- done\n", True),
        (f"{A}; /* done */", True),
        (f"{A}", False),
        ("SHOW BACKUPS IN 'a;'", False),
        ("SHOW BACKUPS IN 'a;", False),  # unterminated string: its `;` is inside it
        (f"{A} -- ;", False),
        (f"{A} /* ; */", False),
        (f"{A} /* ; ", False),
        ('SHOW BACKUPS IN "x;"', False),
        (";", True),
        ("", False),
    ],
)
def test_ends_statement(text: str, complete: bool) -> None:
    assert ends_statement(text) is complete


def test_statements_at_cursor() -> None:
    text = f"{A};\n{B};\n"
    assert statements_at(text, 3) == [A]
    assert statements_at(text, text.index(";") + 1) == [A]  # just after its `;`
    assert statements_at(text, text.index(B) + 2) == [B]
    assert statements_at(text, len(text)) == [A, B]  # past the last `;`, nothing after: all
    assert statements_at(f"{A};\n{B}", len(f"{A};\n{B}")) == [B]
    assert statements_at(text, 0, (text.index(B), len(text))) == [B]  # the selection
    assert statements_at("  -- nothing\n", 3) == []


def test_pieces_cover_the_text_and_keep_empty_statements() -> None:
    text = f"{A};;{B}; "
    ps = pieces(text)
    assert [(p.start, p.end, p.terminated, bool(p.tokens)) for p in ps] == [
        (0, len(A) + 1, True, True),
        (len(A) + 1, len(A) + 2, True, False),
        (len(A) + 2, len(A) + len(B) + 3, True, True),
        (len(A) + len(B) + 3, len(text), False, False),
    ]


def test_the_batch_reader_splits_here_too() -> None:
    assert len(parse(f"{A}; SHOW BACKUPS IN 'x;y' ; {B}")) == 3
    with pytest.raises(SQLSyntaxError) as info:
        parse(f"{A}; SHOW BACKUPS IN 'x")
    assert info.value.message == "lexical error: unterminated string"


PIECES = st.sampled_from([A, B, "'a;b'", "-- c;\n", "/* ; */", '"q;"', ";", " ", "\n", "e'\\';'", "x"])


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=12))
def test_pieces_partition_the_text(parts: list[str]) -> None:
    text = "".join(parts)
    ps = pieces(text)
    assert ps[0].start == 0 and ps[-1].end == len(text)
    for a, b in zip(ps, ps[1:]):
        assert a.end == b.start and a.terminated and text[a.end - 1] == ";"
    spans = split_statements(text)
    assert all(s < e for s, e in spans) and all(e1 <= s2 for (_, e1), (s2, _) in zip(spans, spans[1:]))
    assert ends_statement(text) == (len(ps) > 1 and not ps[-1].tokens)
