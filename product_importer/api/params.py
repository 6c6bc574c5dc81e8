"""The API's shared parameter types: record ids, page numbers and text, each checked once
here, so that no value PostgreSQL cannot take reaches a query (it answered 500).

- `RowId`: a path id. Ids are PostgreSQL bigints; one past them cannot exist: `404`.
- `PageNumber`: a page of a list, at most `MAX_PAGE` (its offset must fit a bigint): `422`
  naming the bound.
- `Text`: a string of a query or JSON body without NUL characters (PostgreSQL text cannot
  hold them): `422` naming the field.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import AfterValidator

BIGINT_MAX = 2**63 - 1
# Far past any real list (a billion pages), well within a bigint offset at any page size.
MAX_PAGE = 1_000_000_000


class IdCannotExist(LookupError):
    """A path id past PostgreSQL's bigint: no record has it (raised from validation, it is
    answered by the error table, not as a validation error)."""


def _possible_id(value: int) -> int:
    if not -BIGINT_MAX - 1 <= value <= BIGINT_MAX:
        raise IdCannotExist(f"no record has id {value}: ids are at most {BIGINT_MAX}")
    return value


def no_nul(value: str) -> str:
    """The value, unless it holds a NUL character."""
    if "\x00" in value:
        raise ValueError("must not contain a NUL character (\\u0000), which cannot be stored")
    return value


RowId = Annotated[int, AfterValidator(_possible_id)]
PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE, description="1 for the first page")]
Text = Annotated[str, AfterValidator(no_nul)]
