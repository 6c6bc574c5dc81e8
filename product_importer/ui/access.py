"""Guards for Reflex event handlers: every handler that reads or changes data declares a role."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from product_importer.access import Role

F = TypeVar("F", bound=Callable)


def requires(role: Role) -> Callable[[F], F]:
    """Mark an event handler as needing `role` (put it under `@rx.event`)."""

    def mark(handler: F) -> F:
        handler.required_role = role  # type: ignore[attr-defined]
        return handler

    return mark
