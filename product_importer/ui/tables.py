"""The one table layout every page's data table uses.

Columns have fixed widths (`table-layout: fixed`), so a column keeps its width from one
page of rows to the next whatever the values; long values are cut with an ellipsis and
shown whole in a tooltip (`clipped`) or wrap only where a word does not fit (`wrapped`).
On a window narrower than its columns' widths together (a column without a width counts
FLEXIBLE_MIN) the table scrolls sideways inside its own box (the page never does), and
its actions column stays in sight at the right edge (`actions_cell`), its buttons on one
line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import reflex as rx


@dataclass(frozen=True)
class Column:
    """A column: its header label and width (a CSS length; "" takes what is left)."""

    label: str
    width: str = ""


# Sticky cells need a background of their own: the rows scroll underneath them.
_STICKY = {"position": "sticky", "right": "0", "z_index": "1", "white_space": "nowrap"}
_HEADER_TINT = "linear-gradient(var(--gray-a2), var(--gray-a2)), var(--color-panel-solid)"
# A header only screen readers read out.
_VISUALLY_HIDDEN = {
    "position": "absolute",
    "width": "1px",
    "height": "1px",
    "overflow": "hidden",
    "clip": "rect(0 0 0 0)",
    "white_space": "nowrap",
}


def header_cell(column: Column, *children: rx.Component, **props) -> rx.Component:
    """A column header of fixed width; `children` replace the label (e.g. a sort button)."""
    return rx.table.column_header_cell(
        *(children or (column.label,)),
        width=column.width or None,
        white_space="nowrap",
        overflow="hidden",
        text_overflow="ellipsis",
        **props,
    )


def actions_header(width: str) -> rx.Component:
    """The header over `actions_cell`s: as wide as their buttons, fixed at the right."""
    return rx.table.column_header_cell(
        rx.el.span("Actions", style=_VISUALLY_HIDDEN),
        width=width,
        background=_HEADER_TINT,
        **_STICKY,
    )


def actions_cell(*buttons: rx.Component, **props) -> rx.Component:
    """A row's buttons, on one line, kept at the right edge when the table scrolls."""
    return rx.table.cell(
        rx.hstack(*buttons, spacing="2", align="center", justify="end", wrap="nowrap"),
        background="var(--color-panel-solid)",
        **_STICKY,
        **props,
    )


# The least a column without a width of its own gets before the table scrolls.
FLEXIBLE_MIN = "12rem"
# A moment as `ui/times.py` shows it, in a size 2 table.
TIME_WIDTH = "13rem"


def data_table(
    columns: Sequence[Column],
    body: rx.Component,
    *,
    header: Sequence[rx.Component] = (),
    actions_width: str = "",
    variant: str = "surface",
    **props,
) -> rx.Component:
    """A table of `columns` (their header cells are `header` when given, e.g. sort
    buttons), and an actions column `actions_width` wide at the right when it is given.
    Narrower than its columns' widths together, it scrolls inside its box."""
    widths = [c.width or FLEXIBLE_MIN for c in columns] + ([actions_width] if actions_width else [])
    cells = list(header or (header_cell(c) for c in columns))
    if actions_width:
        cells.append(actions_header(actions_width))
    return rx.table.root(
        rx.table.header(rx.table.row(*cells)),
        body,
        variant=variant,
        width="100%",
        max_width="100%",
        # The surface variant hides the table's overflow, which would pin the sticky
        # actions column to the table instead of the scrolling box.
        style={
            "& .rt-TableRootTable": {
                "table_layout": "fixed",
                "min_width": f"calc({' + '.join(widths)})",
                "overflow": "visible",
            }
        },
        **props,
    )


def clipped(
    value: rx.Var | str | rx.Component, *, title: rx.Var | str | None = None, **props
) -> rx.Component:
    """A value on one line, cut with an ellipsis when it is too long; the tooltip (title,
    the value itself unless it is a component) shows it whole."""
    if title is None and isinstance(value, rx.vars.NumberVar):
        title = value.to_string()
    return rx.text(
        value,
        title=value if title is None else title,
        overflow="hidden",
        text_overflow="ellipsis",
        white_space="nowrap",
        max_width="100%",
        **props,
    )


def wrapped(value: rx.Var | str, **props) -> rx.Component:
    """A value that wraps between words, and inside a word only when it cannot fit."""
    return rx.text(value, overflow_wrap="anywhere", **props)
