"""Hypothesis strategies for the files people and programs really send: valid catalogs in
every encoding we read, and the same broken in every way we have seen.

`ENCODINGS` is the list of encodings the importer claims to read; another one (UTF-16
with a BOM) is one more entry. `damaged_files` draws a file, then maybe damages it.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from dataclasses import dataclass, field

from hypothesis import strategies as st

# Encoders of the encodings the importer reads: text to the bytes a tool would write.
ENCODINGS: dict[str, Callable[[str], bytes]] = {
    "utf-8": lambda text: text.encode("utf-8"),
    "utf-8-bom": lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
    "cp1252": lambda text: text.encode("cp1252", errors="replace"),
    "latin-1": lambda text: text.encode("latin-1", errors="replace"),
}
LINE_ENDS = ("\n", "\r\n", "\r")
DELIMITERS = (",", ";", "\t", "|")


@dataclass(frozen=True)
class GeneratedFile:
    """A file to upload, and what was done to it (shown when a case fails)."""

    data: bytes = field(repr=False)
    recipe: str

    def __repr__(self) -> str:
        head = self.data[:120] + (b"..." if len(self.data) > 120 else b"")
        return f"GeneratedFile({len(self.data):,} bytes: {head!r}, {self.recipe!r})"


# Text as people type it: accents, the euro sign, quotes, delimiters, line breaks.
_TEXT = st.text(
    alphabet=st.sampled_from(list("abcdefghij XYZ-_0123456789éüß€\"',;|\t\n\r")), max_size=24
)
_SKU = st.text(alphabet=st.sampled_from(list("ABCxyz0123456789-_")), min_size=0, max_size=12)
_PRICE = st.one_of(
    st.decimals(min_value=0, max_value=99999, places=2).map(str),
    st.sampled_from(["", "-3.5", "abc", "1.234", "1,50", "12345678901", "€5", " 7 "]),
)
_ACTIVE = st.sampled_from(["", "true", "FALSE", "yes", "no", "1", "0", "maybe"])


def _quoted(value: str, delimiter: str) -> str:
    if any(c in value for c in (delimiter, '"', "\n", "\r")):
        return '"' + value.replace('"', '""') + '"'
    return value


@st.composite
def catalogs(draw: st.DrawFn) -> tuple[str, str]:
    """A CSV as text, well formed: header in any order, case and spacing, extra
    columns (sometimes thousands), quoted values with line breaks, any line ends; and a
    description of it."""
    delimiter = draw(st.sampled_from(DELIMITERS))
    columns = ["sku", "name", "description"] + draw(
        st.lists(st.sampled_from(["price", "active"]), unique=True)
    )
    extras = draw(
        st.one_of(
            st.lists(st.sampled_from(["Colour", "Weight kg", "EAN", "notes"]), unique=True),
            st.integers(1000, 2000).map(lambda n: [f"x{i}" for i in range(n)]),
        )
    )
    header = draw(st.permutations(columns + extras))
    shown = [
        draw(st.sampled_from([c, c.upper(), f" {c} ", c.title()])) if c in columns else c
        for c in header
    ]
    ends = draw(st.sampled_from([*LINE_ENDS, "mixed"]))
    values = {
        "sku": _SKU,
        "name": _TEXT,
        "description": _TEXT,
        "price": _PRICE,
        "active": _ACTIVE,
    }
    wide = len(extras) > 100
    lines = [delimiter.join(_quoted(c, delimiter) for c in shown)]
    for _ in range(draw(st.integers(0, 3 if wide else 12))):
        row = [draw(values[c]) if c in values else ("v" if wide else draw(_TEXT)) for c in header]
        if draw(st.booleans()) and len(row) > 1:
            row = row[: draw(st.integers(1, len(row)))]  # a short row
        lines.append(delimiter.join(_quoted(v, delimiter) for v in row))
    if draw(st.booleans()):
        lines.insert(draw(st.integers(1, len(lines))), "")  # a blank line
    text = ""
    for line in lines:
        end = draw(st.sampled_from(LINE_ENDS)) if ends == "mixed" else ends
        text += line + end
    if draw(st.booleans()):
        text = text.rstrip("\r\n")  # no line break after the last line
    recipe = f"{len(lines) - 1} rows, {len(header)} columns, {delimiter!r}, ends {ends!r}"
    return text, recipe


@st.composite
def damaged_files(draw: st.DrawFn, *, huge: int) -> GeneratedFile:
    """A catalog in one of the encodings, then maybe broken: cut at a random byte, an
    unclosed quote, NUL bytes, a huge value (`huge` characters), random binary, header
    only."""
    kind = draw(
        st.sampled_from(
            ["valid", "truncated", "open-quote", "nul", "huge", "binary", "header-only", "junk"]
        )
    )
    encoding = draw(st.sampled_from(sorted(ENCODINGS)))
    if kind == "binary":
        return GeneratedFile(draw(st.binary(min_size=0, max_size=2000)), "random binary")
    text, recipe = draw(catalogs())
    if kind == "header-only":
        first = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")[0]
        text = first + draw(st.sampled_from(["", *LINE_ENDS]))
    elif kind == "open-quote" and text:
        at = draw(st.integers(0, len(text)))
        text = text[:at] + '"' + text[at:]
    elif kind == "huge":
        at = draw(st.integers(0, len(text)))
        filler = draw(st.sampled_from(["x", '"', "a,b", "\n"]))
        text = text[:at] + filler * (huge // len(filler)) + text[at:]
    data = ENCODINGS[encoding](text)
    if kind == "truncated" and data:
        data = data[: draw(st.integers(0, len(data)))]
    elif kind == "nul" and data:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + b"\x00" * draw(st.integers(1, 3)) + data[at:]
    elif kind == "junk":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=64)) + data[at:]
    return GeneratedFile(data, f"{kind}, {encoding}, {recipe}")
