"""The limits of docs/input.md: what a line may hold, each refused by line with the limit named."""

from __future__ import annotations

import io
import json
from datetime import date
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from builders import HONOS, assessed, delivered, month_closed, opened, voided
from ggzledger import Malformed
from ggzledger.service.records import EARLIEST, MAX_ID, MAX_LINE, MAX_MINUTES, MAX_TEXT, bounded_lines, parse_line

TODAY = date(2025, 6, 15)


def line(record: dict[str, Any]) -> bytes:
    return orjson.dumps(record)


def refusal(text: str | bytes) -> str:
    with pytest.raises(Malformed) as refused:
        parse_line(text, TODAY)
    return str(refused.value)


@pytest.mark.parametrize("text", [
    '{"type": "trajectory_opened", "trajectory": "T-HENK", "patient": "P1", "provider": "12345678",'
    ' "insurer": "3311", "date": "2016-11-01", "trajectory": "T-OTHER"}',
    '{"type":"activity_voided","trajectory":"T1","activity":"A1","date":"2016-11-02","reason":"a: b","activity":"A2"}',
    '{"type": "assessed", "trajectory": "T1", "date": "2016-11-02", "honos": {"1": 0, "1": 4}}',
    '{"type" : "month_closed", "month" : "2016-11", "type" : "month_closed"}',
])  # fmt: skip
def test_a_field_given_twice_is_refused_naming_it(text: str) -> None:
    assert "is given twice; give each field once" in refusal(text)
    assert "is given twice" in refusal(text.encode())


words = st.sampled_from(["assessed", "T1", "2016-11-02", "a: b", ":", "::", '{"x": 1}'])
honos = st.dictionaries(st.sampled_from(["1", "2", "3:", "A"]), st.integers(0, 4), max_size=4)


@given(
    st.dictionaries(
        st.sampled_from(["type", "trajectory", "date", "reason", "honos", "a:b"]),
        st.one_of(words, st.integers(0, 9), honos),
    )
)
def test_a_line_without_repeats_is_never_taken_for_one_whatever_colons_its_strings_hold(obj: dict[str, Any]) -> None:
    for text in (json.dumps(obj), json.dumps(obj, separators=(",", ":")), json.dumps(obj, indent=1).replace("\n", "")):
        try:
            parse_line(text, TODAY)
        except Malformed as refused:
            assert "given twice" not in str(refused)


def test_a_line_longer_than_the_maximum_is_refused_before_it_is_read() -> None:
    long = b'{"type": "month_closed", "month": "2016-11"}' + b" " * MAX_LINE
    assert refusal(long) == f"the line is longer than {MAX_LINE:,} bytes, the most a line may hold"
    assert refusal(b"[" * (MAX_LINE + 1)).startswith("the line is")


def test_free_text_longer_than_the_maximum_is_refused() -> None:
    assert parse_line(line(opened(referrer="r" * MAX_TEXT)), TODAY).get("referrer") == "r" * MAX_TEXT
    for text in ("r" * (MAX_TEXT + 1), "é" * (MAX_TEXT + 1), "r" * 5_000):
        assert refusal(line(opened(referrer=text))) == (
            f"field 'referrer' is {len(text):,} characters long; text fields are at most {MAX_TEXT}"
        )
    assert refusal(line(opened(referrer="r" * 5_000_000))).startswith("the line is longer than")


def test_an_identifier_longer_than_64_characters_is_refused() -> None:
    assert refusal(line(opened("T" * (MAX_ID + 1)))) == (
        "field 'trajectory' is 65 characters long; identifiers are at most 64"
    )


@pytest.mark.parametrize(
    "character",
    [
        "\u202e",
        "\u202a",
        "\u2066",
        "\u2069",
        "\u200e",
        "\u200f",
        "\u061c",
        "\u200b",
        "\u200c",
        "\u200d",
        "\u2060",
        "\ufeff",
        "\u00ad",
    ],
)
def test_an_identifier_with_an_invisible_or_bidi_character_is_refused(character: str) -> None:
    spoof = f"T-{character}KNEH"
    for field, record in (
        ("trajectory", opened(spoof)),
        ("activity", delivered(spoof, "2016-11-02")),
        ("id", month_closed("2016-11", id=spoof)),
    ):
        assert refusal(line(record)) == (
            f"field {field!r} contains the invisible character U+{ord(character):04X}; identifiers may not"
        )


@pytest.mark.parametrize("character", ["\u202e", "\u2067", "\u200f"])
def test_free_text_with_a_bidi_control_is_refused_and_other_letters_are_kept(character: str) -> None:
    assert refusal(line(voided("A1", "2016-11-02", reason=f"dubbel {character}geregistreerd"))) == (
        f"field 'reason' contains the bidirectional control character U+{ord(character):04X}"
    )
    # Letters of any script, and the joiners some scripts and emoji need, stay allowed in free text.
    for text in ("dubbel geregistreerd — cliënt", "\u0645\u0631\u0627\u062c\u0639\u0629", "\U0001f469\u200d\u2695"):
        assert parse_line(line(voided("A1", "2016-11-02", reason=text)), TODAY).get("reason") == text


def test_minutes_are_at_most_a_day() -> None:
    assert parse_line(line(delivered("A1", "2016-11-02", minutes=MAX_MINUTES)), TODAY).get("minutes") == MAX_MINUTES
    for minutes in (MAX_MINUTES + 1, 2**64 - 1):
        assert refusal(line(delivered("A1", "2016-11-02", minutes=minutes))) == (
            f"field 'minutes' is {minutes:,}; an activity takes at most {MAX_MINUTES} minutes (a day)"
        )


@pytest.mark.parametrize("day", ["0001-01-01", "1899-12-31", "1000-06-15"])
def test_a_date_before_1900_is_refused(day: str) -> None:
    for record in (opened(on=day), assessed(day), delivered("A1", day)):
        assert refusal(line(record)) == f"field 'date' is {day}, before {EARLIEST}, the earliest date accepted"
    assert parse_line(line(opened(on="1900-01-01")), TODAY).get("date") == EARLIEST


def test_a_month_before_1900_is_refused() -> None:
    assert refusal(line(month_closed("0001-01"))) == (
        "field 'month' is 0001-01, before 1900-01, the earliest month accepted"
    )


def test_non_ascii_digits_are_not_a_date() -> None:
    assert "must be a date YYYY-MM-DD" in refusal(line(opened(on="\u0662\u0660\u0661\u0666-11-01")))


def test_honos_scores_still_parse_with_the_repeat_check_in_place() -> None:
    assert parse_line(line(assessed("2016-11-02", honos=HONOS)), TODAY).type == "assessed"


def test_a_huge_line_is_read_past_without_being_held_whole_and_the_lines_around_it_are_intact() -> None:
    first, last = b'{"type": "month_closed", "month": "2016-11"}\n', b'{"type": "month_closed", "month": "2016-12"}'
    exact = b"x" * (MAX_LINE - 1) + b"\n"  # as long as a line may be, its newline included
    stream = io.BytesIO(first + b"y" * 1_000_000 + b"\n" + exact + last + b"\n" + b"z" * 100_000)
    lines = list(bounded_lines(stream))
    assert lines[0] == first and lines[2] == exact and lines[3] == last + b"\n"
    assert [len(cut) for cut in (lines[1], lines[4])] == [MAX_LINE + 1, MAX_LINE + 1]
    assert len(lines) == 5
    assert (
        refusal(lines[1])
        == refusal(lines[4])
        == f"the line is longer than {MAX_LINE:,} bytes, the most a line may hold"
    )
