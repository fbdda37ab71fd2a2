"""LATEST names and backup subdirectory names (spec §1.1, §1.2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.errors import FormatError
from engine.formats.latest_name import (
    LATEST_DIR,
    LATEST_PREFIX,
    backup_subdir_for,
    decode_descending_name,
    encode_descending_name,
    go_time_string,
    incremental_subdir_for,
    latest_file_name,
    parse_latest_file_name,
)

# pkg/ccl/backupccl/testdata/restore_old_versions/cluster/23.1.11/metadata/latest/
FIXTURE = (
    "LATEST-13cdcfcdccd2ceced2cfc6dfcec8c5cbc8c5cdc8d1c8cacbc8cdc7dfd4cfcfcfcfdfaaabbcdf92c2d4"
    "caccd1cfcfcbcfc7cdcdcecffffe"
)
FIXTURE_TEXT = "2023-11-09 17:47:27.754728 +0000 UTC m=+53.004082210"
# pkg/ccl/backupccl/testdata/restore_old_versions/cluster/22.2.0/metadata/latest/
FIXTURE_22_2 = (
    "LATEST-13cdcfcdcdd2cecdd2cdcddfcfccc5cfcac5cbcbd1cecfcdc8cbcccbc6dfd4cfcfcfcfdfaaabbcdf92c2"
    "d4cecdcad1cfc8cecfc7cbc6cecafffe"
)


def test_constants() -> None:
    assert (LATEST_PREFIX, LATEST_DIR) == ("LATEST-", "metadata/latest")


def test_cockroach_fixture_decodes() -> None:
    assert parse_latest_file_name(FIXTURE) == FIXTURE_TEXT
    assert parse_latest_file_name("metadata/latest/" + FIXTURE) == FIXTURE_TEXT
    assert parse_latest_file_name("/" + FIXTURE) == FIXTURE_TEXT
    assert parse_latest_file_name(FIXTURE.removeprefix("LATEST-")) == FIXTURE_TEXT
    assert latest_file_name(FIXTURE_TEXT) == FIXTURE
    when = datetime(2023, 11, 9, 17, 47, 27, 754728, tzinfo=UTC)
    assert go_time_string(when, 53.00408221) == FIXTURE_TEXT


def test_second_fixture_round_trips() -> None:
    text = parse_latest_file_name(FIXTURE_22_2)
    assert text.startswith("2022-12-22 03:05:44.") and " +0000 UTC m=+" in text
    assert latest_file_name(text) == FIXTURE_22_2


def test_hand_encoding() -> None:
    # 0x13, each byte complemented, then the complemented terminator ff fe.
    assert encode_descending_name("A") == "13befffe"
    assert encode_descending_name("") == "13fffe"
    assert encode_descending_name("\x00") == "13ff00fffe"  # 00 escaped as 00 ff, then inverted


def test_newest_sorts_first() -> None:
    older = latest_file_name(go_time_string(datetime(2023, 11, 9, 17, 0, 0, tzinfo=UTC)))
    newer = latest_file_name(go_time_string(datetime(2023, 11, 9, 18, 0, 0, tzinfo=UTC)))
    assert newer < older


@pytest.mark.parametrize(
    "bad",
    ["LATEST", "LATEST-", "LATEST-zz", "LATEST-13cd", "LATEST-12befffe", "LATEST-13befffe00",
     "LATEST-13fffe0", "13ff7ffffe"],
)
def test_bad_names(bad: str) -> None:
    with pytest.raises(FormatError):
        parse_latest_file_name(bad)


@given(st.text())
def test_descending_round_trip(text: str) -> None:
    assert decode_descending_name(encode_descending_name(text)) == text


@given(st.text(), st.text())
def test_descending_order_reversed(a: str, b: str) -> None:
    ea, eb = encode_descending_name(a), encode_descending_name(b)
    if a.encode() < b.encode():
        assert bytes.fromhex(ea) > bytes.fromhex(eb)


@pytest.mark.parametrize(
    ("when", "mono", "text"),
    [
        (datetime(2023, 11, 9, 17, 47, 27, tzinfo=UTC), None, "2023-11-09 17:47:27 +0000 UTC"),
        (datetime(2023, 11, 9, 17, 47, 27, 500000, tzinfo=UTC), None,
         "2023-11-09 17:47:27.5 +0000 UTC"),
        (datetime(2023, 11, 9, 17, 47, 27, 10, tzinfo=UTC), None,
         "2023-11-09 17:47:27.00001 +0000 UTC"),
        (datetime(2023, 1, 2, 3, 4, 5), 0.0, "2023-01-02 03:04:05 +0000 UTC m=+0.000000000"),
        (datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC), 1.5,
         "0999-01-02 03:04:05 +0000 UTC m=+1.500000000"),
        (datetime(2023, 1, 2, 3, 4, 5, tzinfo=UTC), -2.25,
         "2023-01-02 03:04:05 +0000 UTC m=-2.250000000"),
        (datetime(2023, 1, 2, 3, 4, 5, tzinfo=UTC), 1234567890.123,
         "2023-01-02 03:04:05 +0000 UTC m=+1234567890.123000000"),
        # another zone is converted to UTC first
        (datetime(2023, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2))), None,
         "2023-01-02 03:04:05 +0000 UTC"),
    ],
)
def test_go_time_string(when: datetime, mono: float | None, text: str) -> None:
    assert go_time_string(when, mono) == text


def test_subdirs() -> None:
    when = datetime(2023, 11, 9, 17, 47, 26, 489999, tzinfo=UTC)
    assert backup_subdir_for(when) == "/2023/11/09-174726.48"  # truncated, not rounded
    assert incremental_subdir_for(when) == "/20231109/174726.48"
    assert backup_subdir_for(datetime(2024, 1, 2, 3, 4, 5)) == "/2024/01/02-030405.00"
    eastern = datetime(2024, 1, 1, 20, 0, 0, 990000, tzinfo=timezone(timedelta(hours=-5)))
    assert backup_subdir_for(eastern) == "/2024/01/02-010000.99"
    assert incremental_subdir_for(eastern) == "/20240102/010000.99"
