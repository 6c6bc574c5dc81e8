"""The header check and row rules, without a database (SPEC section 1)."""

from __future__ import annotations

import csv
import io

import pytest

from product_importer.csvfile import (
    HeaderProblem,
    LineTally,
    decode_stream,
    detect_format,
    staged_lines,
)
from product_importer.field_rules import price_problem


def staged(data: bytes, *, max_row_chars: int = 1 << 20) -> list[list[str]]:
    """The staging rows of a file, without `last_line` (see test_csv_records.py)."""
    # Without last_line, and without the cells kept for a skipped row (test_error_report).
    return [row[:1] + row[2:-1] for row in staged_with_lines(data, max_row_chars=max_row_chars)[0]]


def staged_with_lines(data: bytes, *, max_row_chars: int = 1 << 20):
    fmt = detect_format(data, at_eof=True)
    tally = LineTally()
    stream = decode_stream(io.BytesIO(data), fmt.encoding)
    text = "".join(staged_lines(stream, fmt, tally=tally, max_row_chars=max_row_chars))
    return list(csv.reader(io.StringIO(text), delimiter=fmt.delimiter)), tally


@pytest.mark.parametrize(
    "header",
    [
        b"sku,name,description",
        b"SKU,Name,DESCRIPTION",
        b"  sku , name ,\tdescription ",
        b"description,sku,name",
        b"\xef\xbb\xbfsku,name,description",
        b"price,active,sku,name,description",
    ],
)
def test_header_is_case_space_bom_and_order_insensitive(header: bytes) -> None:
    fmt = detect_format(header + b"\n", at_eof=True)
    assert {"sku", "name", "description"} <= fmt.positions.keys()
    assert fmt.extra_columns == ()


def test_extra_columns_are_allowed_and_listed() -> None:
    fmt = detect_format(b"sku,Colour,name,description,Weight kg\n", at_eof=True)
    assert fmt.extra_columns == ("Colour", "Weight kg")


def test_a_refused_header_is_shown_bounded_however_long_or_wide() -> None:
    """Thousands of columns, or a "header" that is one long run of text: the message lists
    a readable part of it."""
    for head in (b"D" * 5000, b",".join(b"col%d" % i for i in range(3000))):
        with pytest.raises(HeaderProblem) as refused:
            detect_format(head + b"\n", at_eof=True)
        message = str(refused.value)
        assert message.startswith("missing columns: sku, name, description (headers found: ")
        assert len(message) < 3000, len(message)
    assert "and 2,970 more" in message and "col29," in message and "col30," not in message


@pytest.mark.parametrize("missing", ["sku", "name", "description"])
def test_each_missing_required_column_is_named(missing: str) -> None:
    columns = [c for c in ("sku", "name", "description", "price") if c != missing]
    with pytest.raises(HeaderProblem, match=f"^missing column: {missing} \\(headers found: "):
        detect_format(",".join(columns).encode() + b"\n", at_eof=True)


def test_several_missing_columns_are_all_named() -> None:
    with pytest.raises(HeaderProblem, match="missing columns: name, description"):
        detect_format(b"sku,price\n", at_eof=True)


@pytest.mark.parametrize("data", [b"", b"   \n\n", b"\xef\xbb\xbf"])
def test_empty_file_is_rejected(data: bytes) -> None:
    with pytest.raises(HeaderProblem, match="empty"):
        detect_format(data, at_eof=True)


def test_binary_file_is_rejected() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00"
    with pytest.raises(HeaderProblem, match="binary"):
        detect_format(png, at_eof=True)


def test_first_line_empty_is_rejected() -> None:
    with pytest.raises(HeaderProblem, match="first line is empty"):
        detect_format(b"\nsku,name,description\n", at_eof=True)


def test_duplicate_known_column_is_rejected() -> None:
    with pytest.raises(HeaderProblem, match="more than once: sku"):
        detect_format(b"sku,name,description,SKU\n", at_eof=True)


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_other_delimiters_are_detected(delimiter: str) -> None:
    data = delimiter.join(["sku", "name", "description", "price"]).encode() + b"\n"
    data += delimiter.join(["A1", "Chair, oak", "Seat", "1.50"]).encode() + b"\n"
    assert detect_format(data, at_eof=True).delimiter == delimiter
    assert staged(data) == [["2", "", "A1", "Chair, oak", "Seat", "1.50", "t"]]


def test_cp1252_file_is_decoded() -> None:
    data = "sku;name;description\nA1;Café crème;Größe €\n".encode("cp1252")
    fmt = detect_format(data, at_eof=True)
    assert fmt.encoding == "cp1252"
    assert staged(data)[0][3:5] == ["Café crème", "Größe €"]


def test_stray_cp1252_bytes_in_a_utf8_file_are_decoded_not_fatal() -> None:
    data = "sku,name,description\nA1,Crème,x\n".encode() + "A2,Caf\xe9,y\n".encode("cp1252")
    rows = staged(data)
    assert [r[3] for r in rows] == ["Crème", "Café"]


def test_rows_keep_their_physical_line_numbers() -> None:
    data = b'sku,name,description,price,active\nA1,One,"two\nlines",1,yes\n\nA2,Two,plain,,\n'
    assert staged(data) == [
        ["2", "", "A1", "One", "two\nlines", "1", "t"],
        ["5", "", "A2", "Two", "plain", "", "t"],
    ]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (b",Name,d,1,yes", "Enter a SKU."),
        (b"  ,Name,d,1,yes", "Enter a SKU."),
        (b"A1,,d,1,yes", "Enter a name."),
        (b"A1,N,d,abc,yes", "Enter the price as a number, like 19.99 (not 'abc')."),
        (b"A1,N,d,-2,yes", "Price can't be negative."),
        (b"A1,N,d,1.234,yes", "Price can have at most 2 decimal places (not '1.234')."),
        (b"A1,N,d,12345678901,yes", "Price can be at most 9,999,999,999.99."),
        (b"A1,N,d,1,maybe", "Active must be yes or no (or true/false, 1/0), not 'maybe'."),
        (b"A1,N,d", "This row has 3 values but the header has 5 columns."),
        (b"A1,N,d,1,yes,extra", "This row has 6 values but the header has 5 columns."),
        (b"A" * 65 + b",N,d,1,yes", "A SKU can have at most 64 characters (this one has 65)."),
        (
            b"A1," + b"N" * 256 + b",d,1,yes",
            "A name can have at most 255 characters (this one has 256).",
        ),
        (b'A1,N,"d",\xef\xbc\x91,yes', "Enter the price as a number, like 19.99 (not '\uff11')."),
    ],
)
def test_bad_rows_are_skipped_with_a_reason(row: bytes, reason: str) -> None:
    rows = staged(b"sku,name,description,price,active\n" + row + b"\n")
    assert len(rows) == 1
    assert rows[0][0] == "2"
    assert rows[0][1] == reason


@pytest.mark.parametrize(
    ("value", "expected"),
    [("TRUE", "t"), ("Yes", "t"), ("1", "t"), ("", "t"), ("no", "f"), ("0", "f"), ("False", "f")],
)
def test_active_values(value: str, expected: str) -> None:
    rows = staged(b"sku,name,description,active\nA1,N,d," + value.encode() + b"\n")
    assert rows[0][-1] == expected


@pytest.mark.parametrize(
    "price", ["0", "1", "1.5", "1.50", "1.500", ".5", "5.", "0009999999999.99"]
)
def test_valid_prices(price: str) -> None:
    assert price_problem(price) is None


def test_quoted_fields_are_rewritten_so_postgres_reads_the_same_values() -> None:
    data = b'sku,name,description\nA1,"Chair ""Oak""",  x"y  \n'
    assert staged(data) == [["2", "", "A1", 'Chair "Oak"', 'x"y', "", "t"]]


def test_unreadable_row_is_reported_and_reading_goes_on() -> None:
    # A NUL byte at the start of a file means binary; later on, it spoils one row only.
    data = b"sku,name,description\n" + b"A0,N,d\n" * 2000 + b"A1,N,a\x00b\nA2,N,d\n"
    rows = staged(data)[2000:]
    assert rows[0][:2] == [
        "2002",
        "The description contains a NUL character (an invisible "
        "control character) that can't be stored.",
    ]
    assert rows[1][:3] == ["2003", "", "A2"]
