"""The header check and row rules, without a database (SPEC section 1)."""

from __future__ import annotations

import io

import pytest

from product_importer.csvfile import (
    HeaderProblem,
    decode_stream,
    detect_format,
    price_problem,
    staged_lines,
)


def staged(data: bytes) -> list[list[str]]:
    import csv

    fmt = detect_format(data, at_eof=True)
    text = "".join(staged_lines(decode_stream(io.BytesIO(data), fmt), fmt))
    return list(csv.reader(io.StringIO(text), delimiter=fmt.delimiter))


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


@pytest.mark.parametrize("missing", ["sku", "name", "description"])
def test_each_missing_required_column_is_named(missing: str) -> None:
    columns = [c for c in ("sku", "name", "description", "price") if c != missing]
    with pytest.raises(HeaderProblem, match=f"^missing column: {missing}$"):
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
        (b",Name,d,1,yes", "sku is empty"),
        (b"  ,Name,d,1,yes", "sku is empty"),
        (b"A1,,d,1,yes", "name is empty"),
        (b"A1,N,d,abc,yes", "price 'abc' is not a number"),
        (b"A1,N,d,-2,yes", "price '-2' is negative (must be >= 0)"),
        (b"A1,N,d,1.234,yes", "price '1.234' has more than 2 decimal places"),
        (b"A1,N,d,12345678901,yes", "price '12345678901' is too large (max 9999999999.99)"),
        (b"A1,N,d,1,maybe", "active 'maybe' is not one of true/false/1/0/yes/no"),
        (b"A1,N,d", "row has 3 fields but the header has 5"),
        (b"A1,N,d,1,yes,extra", "row has 6 fields but the header has 5"),
        (b"A" * 65 + b",N,d,1,yes", "sku is longer than 64 characters"),
        (b"A1," + b"N" * 256 + b",d,1,yes", "name is longer than 255 characters"),
        (b'A1,N,"d",\xef\xbc\x91,yes', "price '\uff11' is not a number"),
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
    assert rows[0][:2] == ["2002", "row contains a NUL character"]
    assert rows[1][:3] == ["2003", "", "A2"]
