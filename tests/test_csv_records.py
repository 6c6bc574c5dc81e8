"""Rows from physical lines, without a database: every line accounted for, files that end
without a line break, stray quotes that would swallow rows, lines too long to hold."""

from __future__ import annotations

import io
import threading

import pytest

from product_importer.csvfile import LineTally, decode_stream, detect_format, staged_lines
from product_importer.imports.intake import _END, _ChunkReader
from tests.support import physical_lines
from tests.test_csvfile import staged_with_lines

HEADER = b"sku,name,description\n"


def assert_every_line_accounted_for(data: bytes, rows: list[list[str]], tally: LineTally):
    assert tally.lines == physical_lines(data, "utf-8")
    covered = sum(int(row[1]) - int(row[0]) + 1 for row in rows)
    assert 1 + tally.blank + covered == tally.lines
    starts = [int(row[0]) for row in rows]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)


def staged_through_the_upload_stream(data: bytes) -> list[str]:
    """Parse as the intake does: from a blocking chunk stream in a thread, which must end."""
    fmt = detect_format(data, at_eof=True)
    reader = _ChunkReader(deadline_s=5)
    reader.chunks.put(data)
    reader.chunks.put(_END)
    lines: list[str] = []
    failure: list[BaseException] = []

    def parse() -> None:
        try:
            text = decode_stream(io.BufferedReader(reader), fmt.encoding)
            lines.extend(staged_lines(text, fmt, tally=LineTally(), max_row_chars=1 << 20))
        except BaseException as exc:  # noqa: BLE001 - reported below
            failure.append(exc)

    parser = threading.Thread(target=parse, daemon=True)
    parser.start()
    parser.join(timeout=10)
    assert not parser.is_alive(), "the parser is still waiting after the end of the stream"
    assert not failure, failure
    return lines


@pytest.mark.parametrize(
    ("data", "rows"),
    [
        (HEADER + b"A1,n,d\nA2,m,e", 2),  # no line break after the last row
        (HEADER.rstrip(), 0),  # header only, no line break
        (HEADER, 0),
        (HEADER + b"A1,n,d\r", 1),  # a lone CR at the end
        (HEADER + b"A1,n,d\r\nA2,m,e\r\n", 2),
        (HEADER + b'A1,n,"d\nA2,m,e\n', 2),  # a quoted value never closed
        (HEADER + b'A1,n,"never closed', 1),
        (HEADER + b'A1,n,"d"', 1),
    ],
    ids=[
        "no-final-break",
        "header-only",
        "header-break",
        "lone-cr",
        "crlf",
        "open-quote",
        "open-quote-no-break",
        "quoted-last",
    ],
)
def test_every_file_end_ends_the_reader(data: bytes, rows: int) -> None:
    assert len(staged_through_the_upload_stream(data)) == rows


def test_the_end_of_the_upload_stream_stays_the_end() -> None:
    reader = _ChunkReader(deadline_s=1)
    reader.chunks.put(b"abc")
    reader.chunks.put(_END)
    buffer = bytearray(10)
    assert reader.readinto(buffer) == 3
    assert reader.readinto(buffer) == 0
    assert reader.readinto(buffer) == 0  # asked again: still the end, at once


def test_lone_cr_and_mixed_line_ends_are_lines() -> None:
    data = HEADER.replace(b"\n", b"\r") + b"A1,n,d\rA2,m,e\r\nA3,o,f\nA4,p,g"
    rows, tally = staged_with_lines(data)
    assert [(r[0], r[3]) for r in rows] == [("2", "A1"), ("3", "A2"), ("4", "A3"), ("5", "A4")]
    assert_every_line_accounted_for(data, rows, tally)


def test_blank_lines_and_empty_rows_are_counted_not_imported() -> None:
    data = HEADER + b"A1,n,d\n\n   \n,,\n , ,\nA2,m,e\n"
    rows, tally = staged_with_lines(data)
    assert [r[3] for r in rows] == ["A1", "A2"]
    assert tally.blank == 4
    assert_every_line_accounted_for(data, rows, tally)


def test_a_legal_multi_line_value_is_one_row_spanning_its_lines() -> None:
    data = HEADER + b'A1,Lamp,"Brass lamp\nwith a shade, and a cord\n\nin a box"\nA2,m,e\n'
    rows, tally = staged_with_lines(data)
    assert rows[0][:4] == ["2", "5", "", "A1"]
    assert rows[0][5] == "Brass lamp\nwith a shade, and a cord\n\nin a box"
    assert rows[1][:4] == ["6", "6", "", "A2"]
    assert_every_line_accounted_for(data, rows, tally)


def test_a_bad_row_over_several_lines_names_the_lines_it_covers() -> None:
    data = HEADER.rstrip() + b',price\nA1,Lamp,"Brass lamp\nwith a shade",abc\nA2,m,e,1\n'
    rows, tally = staged_with_lines(data)
    assert rows[0][:2] == ["2", "3"]
    assert rows[0][2].startswith("Enter the price as a number")
    assert rows[0][2].endswith("(This row runs over lines 2–3.)")
    assert_every_line_accounted_for(data, rows, tally)


STRAY_QUOTE = (
    HEADER
    + b'QX-1,Alpha,"7"" tablet\n'
    + b"QX-2,Beta,Second\n"
    + b"QX-3,Gamma,Third\n"
    + b"QX-4,Delta,Fourth\n"
    + b"QX-5,Epsilon,Fifth\n"
)


def report(rows: list[list[str]]) -> list[tuple[str, str, str]]:
    return [(r[0], r[3], r[2]) for r in rows if r[2]]


def test_a_stray_quote_that_never_closes_reports_every_line_it_swallowed() -> None:
    rows, tally = staged_with_lines(STRAY_QUOTE)
    bad = report(rows)
    assert [(line, sku) for line, sku, _ in bad] == [
        ("2", "QX-1"),
        ("3", "QX-2"),
        ("4", "QX-3"),
        ("5", "QX-4"),
        ("6", "QX-5"),
    ]
    assert "never closes" in bad[0][2] and "lines 2–6" in bad[0][2]
    assert all("inside the quoted value that starts on line 2" in r for _, _, r in bad[1:])
    assert_every_line_accounted_for(STRAY_QUOTE, rows, tally)


@pytest.mark.parametrize(
    ("closing", "words"),
    [
        (b'QX-4,Delta,"Fourth"\n', "followed by other text"),  # quote closed by another quote
        (b'QX-4,Delta,Fourth 7"\n', "look like rows of their own (3, 4, 5)"),  # a bare quote
        (b'QX-4",Delta,Fourth\n', "has 5 values where the header has 3"),
    ],
    ids=["closed-by-a-quoted-value", "closed-by-a-bare-quote", "closed-leaving-too-many-values"],
)
def test_a_stray_quote_closed_later_reports_the_swallowed_rows(closing: bytes, words: str):
    data = STRAY_QUOTE.replace(b"QX-4,Delta,Fourth\n", closing)
    rows, tally = staged_with_lines(data)
    bad = report(rows)
    assert [line for line, _, _ in bad] == ["2", "3", "4", "5"], bad
    assert words in bad[0][2]
    assert [r[3] for r in rows if not r[2]] == ["QX-5"]  # the row after the damage is read
    assert_every_line_accounted_for(data, rows, tally)


def test_text_after_a_closing_quote_is_reported_not_glued_on() -> None:
    rows, _ = staged_with_lines(HEADER + b'A1,"Chair"x,d\nA2,m,e\n')
    assert rows[0][:2] == ["2", "2"]
    assert "followed by other text instead of a comma" in rows[0][2]
    assert rows[1][3] == "A2"


def test_a_line_longer_than_the_limit_is_reported_and_never_held() -> None:
    data = HEADER + b"A1,n,d\nA2,n," + b"x" * 5000 + b"\nA3,n,d"
    rows, tally = staged_with_lines(data, max_row_chars=1000)
    assert [(r[0], r[3]) for r in rows] == [("2", "A1"), ("3", "A2"), ("4", "A3")]
    assert rows[1][2] == (
        "This line has 5,005 characters, more than the 1,000 a row may have, "
        "so it was not imported."
    )
    assert_every_line_accounted_for(data, rows, tally)


def test_a_quoted_value_running_past_the_limit_is_refused_with_its_lines() -> None:
    long_value = b"\n".join(b"word " * 30 for _ in range(20))
    data = HEADER + b'A1,n,"' + long_value + b'"\nA2,m,e\n'
    rows, tally = staged_with_lines(data, max_row_chars=1000)
    bad = report(rows)
    assert bad[0][0] == "2" and "runs past 1,000 characters without closing" in bad[0][2]
    assert len(bad) == 20  # the value's 20 lines
    assert rows[-1][3] == "A2"
    assert_every_line_accounted_for(data, rows, tally)


def test_an_over_long_line_that_opens_a_quote_swallows_until_it_closes() -> None:
    data = HEADER + b'A1,n,"' + b"x" * 3000 + b'\nstill inside\nclosed here",x\nA2,m,e\n'
    rows, tally = staged_with_lines(data, max_row_chars=1000)
    assert [r[0] for r in report(rows)] == ["2", "3", "4"]
    assert [r[3] for r in rows if not r[2]] == ["A2"]
    assert_every_line_accounted_for(data, rows, tally)


def test_thousands_of_columns_are_read() -> None:
    extra = ",".join(f"c{i}" for i in range(5000)).encode()
    data = HEADER.rstrip() + b"," + extra + b"\nA1,n,d," + b",".join([b"v"] * 5000) + b"\n"
    rows, tally = staged_with_lines(data)
    assert [(r[0], r[3], r[2]) for r in rows] == [("2", "A1", "")]
    assert_every_line_accounted_for(data, rows, tally)


def test_a_header_of_many_repeated_columns_is_checked_quickly() -> None:
    # Counting each repeated name by scanning the header again would take hours here.
    header = b"sku,name,description," + b"price," * 200_000
    with pytest.raises(Exception, match="more than once: price"):
        detect_format(header + b"\n", at_eof=True)
