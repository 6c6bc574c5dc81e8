"""Saved column mappings: list and save (editors), rename, change and delete (admins)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from product_importer.access import Principal, Role
from product_importer.api.access import require
from product_importer.api.params import RowId, Text
from product_importer.imports import saved_mappings
from product_importer.models import SavedMapping

router = APIRouter(
    prefix="/api/mappings", tags=["mappings"], dependencies=[Depends(require(Role.editor))]
)
_admin = [Depends(require(Role.admin))]


class MappingOut(BaseModel):
    id: int
    name: str
    headers: list[str] = Field(description="the header names it was made for, as written")
    columns: dict[str, str | None] = Field(description="field -> header (null: not imported)")
    created_by: str | None
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def of(cls, saved: SavedMapping) -> MappingOut:
        return cls(**saved.model_dump(exclude={"header_key"}))


class NewMapping(BaseModel):
    name: Text
    headers: list[Text] = Field(description="the file's header names")
    columns: dict[Text, Text | None] = Field(
        description='field -> header, e.g. {"sku": "Variant SKU", "name": "Title"}; fields '
        "left out take the clear suggestion, null leaves an optional field out"
    )


class MappingChange(BaseModel):
    name: Text | None = None
    columns: dict[Text, Text | None] | None = None


@router.get("", response_model=list[MappingOut])
def list_mappings() -> list[MappingOut]:
    """Every saved mapping, by name."""
    return [MappingOut.of(m) for m in saved_mappings.list_mappings()]


@router.post("", status_code=201, response_model=MappingOut, responses={409: {}, 422: {}})
def create_mapping(body: NewMapping, request: Request) -> MappingOut:
    """Save a mapping for a header set: a file with the same header names (any order and
    letter case) is read with it from now on. `409` when the name is taken."""
    principal: Principal = request.state.principal
    return MappingOut.of(
        saved_mappings.create_mapping(
            body.name, body.headers, body.columns, created_by=principal.name
        )
    )


@router.get("/{mapping_id}", response_model=MappingOut)
def get_mapping(mapping_id: RowId) -> MappingOut:
    return MappingOut.of(saved_mappings.get_mapping(mapping_id))


@router.patch("/{mapping_id}", response_model=MappingOut, dependencies=_admin, responses={409: {}})
def change_mapping(mapping_id: RowId, body: MappingChange) -> MappingOut:
    """Admins: rename a saved mapping and/or change its columns (checked against the
    headers it was made for)."""
    return MappingOut.of(
        saved_mappings.update_mapping(mapping_id, name=body.name, columns=body.columns)
    )


@router.delete("/{mapping_id}", status_code=204, dependencies=_admin)
def delete_mapping(mapping_id: RowId) -> Response:
    """Admins: delete a saved mapping (imports that used it keep its name)."""
    saved_mappings.delete_mapping(mapping_id)
    return Response(status_code=204)
