"""Completion at the interesting cursor positions; ranges are checked by splicing."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from syntax import Completion, complete
from syntax.completion import complete_strict

C = "'nodelocal://1/c'"
SUBDIRS = ["2023/12/31-235959.99", "2024/01/01-000000.00", "2024/01/02-120000.00", "2024/02/01-000000.00"]
SECRET_URI = "aws:///alias/k?REGION=us-east-1&AWS_ACCESS_KEY_ID=A&AWS_SECRET_ACCESS_KEY=s3cr3t"


def at_end(text: str, **kw: object) -> list[Completion]:
    return complete_strict(text, len(text), **kw)  # type: ignore[arg-type]


def texts(cs: Sequence[Completion]) -> list[str]:
    return [c.text for c in cs]


def splice(text: str, c: Completion) -> str:
    return text[: c.start] + c.text + text[c.end :]


def test_start_of_buffer_offers_statements() -> None:
    assert texts(at_end("")) == ["ALTER", "SHOW", "BACKUP", "RESTORE"]
    (c,) = at_end("sh")
    assert (c.text, c.start, c.end, c.kind) == ("SHOW", 0, 2, "keyword")


def test_after_alter_backup() -> None:
    got = at_end("ALTER BACKUP ")
    assert texts(got)[:2] == ["ALL", "LATEST"]
    assert "'s3://" in texts(got)  # the full-backup-URI form
    assert {c.kind for c in got} == {"keyword", "scheme"}
    assert texts(at_end("alter backup la")) == ["LATEST"]


def test_inside_subdir_string_with_provider() -> None:
    calls: list[str] = []

    def provider(uri: str) -> list[str]:
        calls.append(uri)
        return list(reversed(SUBDIRS))

    text = f"ALTER BACKUP '2024/01' IN {C} ADD NEW_KMS = 'a' WITH OLD_KMS = 'b'"
    cursor = text.index("' IN")
    got = complete_strict(text, cursor, subdirs=provider)
    assert calls == ["nodelocal://1/c"]
    assert texts(got) == ["2024/01/02-120000.00", "2024/01/01-000000.00"]  # newest first
    c = got[0]
    assert (c.start, c.end, c.kind) == (text.index("2024"), cursor, "subdir")
    assert splice(text, c).startswith("ALTER BACKUP '2024/01/02-120000.00' IN")  # no extra quote


def test_subdir_prefix_is_exact_and_latest_is_offered() -> None:
    text = f"SHOW BACKUP FROM '' IN {C}"
    cursor = text.index("'' IN") + 1
    got = complete_strict(text, cursor, subdirs=lambda _: SUBDIRS)
    assert texts(got) == ["LATEST", *reversed(SUBDIRS)]  # newest first, as in the browser
    text2 = f"SHOW BACKUP FROM 'la' IN {C}"
    assert texts(complete_strict(text2, text2.index("la") + 2, subdirs=lambda _: SUBDIRS)) == ["LATEST"]


def test_provider_failure_is_swallowed_and_called_once() -> None:
    calls = []

    def broken(uri: str) -> list[str]:
        calls.append(uri)
        raise OSError("bucket unreachable")

    text = f"SHOW BACKUP FROM  IN {C}"
    got = complete_strict(text, text.index(" IN"), subdirs=broken)
    assert texts(got) == ["LATEST"]
    assert calls == ["nodelocal://1/c"]


def test_bare_position_inserts_whole_quoted_subdir() -> None:
    text = f"SHOW BACKUP FROM  IN {C}"
    cursor = text.index(" IN")
    got = complete_strict(text, cursor, subdirs=lambda _: ["it's/odd"])
    subdir = [c for c in got if c.kind == "subdir"]
    assert texts(subdir) == ["e'it\\'s/odd'"]  # quote_string: CockroachDB's own quoting


def test_after_in_offers_storage_schemes() -> None:
    got = at_end("ALTER BACKUP LATEST IN ")
    assert {c.kind for c in got} == {"scheme"}
    assert "'nodelocal://self/" in texts(got) and "'s3://" in texts(got)
    inside = at_end("SHOW BACKUPS IN 'az")
    assert texts(inside) == ["azure-blob://", "azure://", "azure-storage://"]
    assert inside[0].start == len("SHOW BACKUPS IN '")


def test_after_new_kms_offers_history_redacted_then_schemes() -> None:
    text = f"ALTER BACKUP LATEST IN {C} ADD NEW_KMS = "
    got = at_end(text, kms_history=[SECRET_URI, SECRET_URI])
    assert got[0].kind == "uri" and got[0].text == f"'{SECRET_URI}'"
    assert "s3cr3t" not in got[0].detail and "AWS_SECRET_ACCESS_KEY=redacted" in got[0].detail
    assert len([c for c in got if c.kind == "uri"]) == 1
    assert "'aws:///" in texts(got) and "'azure-kms:///" in texts(got)


def test_history_inside_string_by_exact_prefix() -> None:
    text = f"ALTER BACKUP LATEST IN {C} ADD NEW_KMS = 'aws:///al"
    got = at_end(text, kms_history=[SECRET_URI, "aws:///other?REGION=x"])
    assert texts(got) == [SECRET_URI]
    assert splice(text, got[0]).endswith(f"'{SECRET_URI}")


def test_after_old_kms_and_show_kms_offer_history() -> None:
    for text in (
        f"ALTER BACKUP LATEST IN {C} ADD NEW_KMS = 'a' WITH OLD_KMS = ",
        f"SHOW BACKUP FROM LATEST IN {C} WITH KMS = ",
        f"SHOW BACKUP KEYS FROM LATEST IN {C} WITH OPTIONS (KMS = ",
    ):
        assert texts(at_end(text, kms_history=["testkms:///a"]))[0] == "'testkms:///a'"


def test_inside_uri_after_question_mark_offers_params() -> None:
    text = f"ALTER BACKUP LATEST IN {C} ADD NEW_KMS = 'aws:///k?"
    got = at_end(text)
    assert texts(got) == [
        "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_SESSION_TOKEN=", "AWS_ENDPOINT=",
        "REGION=", "AUTH=", "ASSUME_ROLE=",
    ]
    assert all(c.kind == "param" and c.start == c.end == len(text) for c in got)
    region = got[4]
    assert "required" in region.detail
    assert "secret" in got[1].detail


def test_params_already_present_are_not_offered() -> None:
    text = f"SHOW BACKUPS IN 's3://b/c?AUTH=implicit&aws_r"
    got = at_end(text)
    assert texts(got) == ["AWS_REGION="]
    assert splice(text, got[0]).endswith("?AUTH=implicit&AWS_REGION=")
    text2 = f"SHOW BACKUPS IN 's3://b/c?AWS_REGION=x&AW' "
    got2 = complete_strict(text2, text2.index("AW'") + 2)
    assert "AWS_REGION=" not in texts(got2) and "AWS_ENDPOINT=" in texts(got2)


def test_after_auth_offers_enum_values() -> None:
    text = f"ALTER BACKUP LATEST IN {C} ADD NEW_KMS = 'gs:///projects/p?AUTH="
    got = at_end(text)
    assert texts(got) == ["specified", "implicit"]
    assert got[0].kind == "value" and got[0].start == len(text)
    got = at_end(text + "IM")
    assert texts(got) == ["implicit"] and got[0].start == len(text)


def test_after_with_in_alter() -> None:
    assert texts(at_end(f"ALTER BACKUP LATEST IN {C} ADD NEW_KMS = 'a' WITH ")) == ["OLD_KMS"]
    assert texts(at_end(f"ALTER BACKUP LATEST IN {C} ADD NEW_KMS = 'a' WITH OLD_KMS = 'b' ")) == ["ADD"]


def test_inside_with_options_paren() -> None:
    got = texts(at_end(f"SHOW BACKUP FROM LATEST IN {C} WITH OPTIONS ("))
    assert got[:3] == ["AS_JSON", "CHECK_FILES", "SKIP"] and "KMS" in got and "OPTIONS" not in got
    assert texts(at_end(f"SHOW BACKUP FROM LATEST IN {C} WITH OPTIONS (check_files ")) == []
    assert texts(at_end(f"SHOW BACKUP FROM LATEST IN {C} WITH skip ")) == ["SIZE"]
    assert texts(at_end(f"SHOW BACKUP FROM LATEST IN {C} WITH en")) == [
        "ENCRYPTION_PASSPHRASE", "ENCRYPTION_INFO_DIR"]


def test_second_statement_and_comments() -> None:
    assert texts(at_end("SHOW BACKUPS IN 'x'; al")) == ["ALTER"]
    assert at_end("SHOW BACKUPS IN 'x' -- al") == []
    assert at_end("/* al") == []


def test_keywords_rank_exact_case_first() -> None:
    got = texts(at_end(f"SHOW BACKUP FROM LATEST IN {C} WITH "))
    assert got[0] == "OPTIONS" and got == [g.upper() for g in got]


def test_large_provider_is_sorted_once_and_bisected() -> None:
    subdirs = tuple(f"{2000 + i // 400}/{(i // 40) % 10 + 1:02d}/{i % 28 + 1:02d}-{i:06d}.00" for i in range(10_000))
    text = f"SHOW BACKUP FROM '2010/0' IN {C}"
    cursor = text.index("' IN")
    got = complete_strict(text, cursor, subdirs=lambda _: subdirs)
    assert got and all(c.text.startswith("2010/0") for c in got)
    assert texts(got) == sorted(texts(got), reverse=True)  # newest first
    assert len(got) == 200 and got[0].text == max(s for s in subdirs if s.startswith("2010/0"))


@pytest.mark.parametrize("cursor", [-5, 10_000])
def test_cursor_out_of_range_is_clamped(cursor: int) -> None:
    assert isinstance(complete("ALTER", cursor), list)


def test_a_line_comment_earlier_in_the_buffer_does_not_disable_completion() -> None:
    from syntax import complete

    text = "-- rotate the demo keys\nSHOW BACKUPS IN "
    assert complete(text, len(text)) != []
    assert complete(text, len("-- rotate")) == []  # inside the comment itself
    assert complete(text, len("-- rotate the demo keys")) == []  # at its end, still inside
