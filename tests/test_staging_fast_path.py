"""Staging's one-pass check of the common row (csvfile.staging.as_read_flag) stages every
file exactly as the general path does: same lines, same reasons, same counts."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from product_importer.csvfile import LineTally, detect_format, staged_lines, staging

# Values near every rule's edge: formula cells, apostrophes, NUL, prices plain and not,
# active words and not, blanks, spaces to trim.
CELLS = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "A-1",
            " a-1 ",
            "'=1+1",
            "'plain",
            "=SUM(A1)",
            "x\x00y",
            "19.99",
            "1,299",
            "1.299,50",
            "-3",
            "12.505",
            "$5",
            "yes",
            "No",
            "0",
            "maybe",
            "Oak chair",
            "s" * 65,
            "n" * 256,
        ]
    ),
    st.text(alphabet="ab 1.,'=-\x00", max_size=8),
)
# Each value valid or near an edge, so that most rows break at most one rule.
VALID = ("A-1", "Oak chair", "Solid oak", "19.99", "yes")
ROWS = st.lists(
    st.tuples(*(st.one_of(st.just(value), CELLS) for value in VALID)), min_size=1, max_size=12
)


def _staged(data: str, headers: str) -> tuple[list[str], tuple[int, int, int]]:
    raw = (headers + "\n" + data).encode()
    fmt = detect_format((headers + "\n").encode(), at_eof=False)
    tally = LineTally()
    lines = list(staged_lines(io.StringIO(raw.decode()), fmt, tally=tally, max_row_chars=1 << 20))
    return lines, (tally.lines, tally.blank, tally.by_style)


def _general_path(data: str, headers: str):
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(staging, "as_read_flag", lambda *values: None)
        return _staged(data, headers)


@pytest.mark.parametrize(
    "headers", ["sku,name,description,price,active", "name,sku,active,description,price"]
)
@settings(max_examples=300, deadline=None)
@given(rows=ROWS)
def test_the_fast_path_stages_what_the_general_path_does(headers, rows) -> None:
    data = "\n".join(",".join(row) for row in rows if "," not in "".join(row))
    data += "\n" if rows[0][0] == "" else ""  # with and without a final line break
    assert _staged(data, headers) == _general_path(data, headers)


def test_the_common_row_takes_the_fast_path() -> None:
    data = "A-1,Oak chair,Solid oak,19.99,yes\nA-2,Lamp,,,0\n"
    headers = "sku,name,description,price,active"
    lines, _ = _staged(data, headers)
    assert lines == ["2,2,,A-1,Oak chair,Solid oak,19.99,t,\n", "3,3,,A-2,Lamp,,,f,\n"]
    assert (lines, _) == _general_path(data, headers)
