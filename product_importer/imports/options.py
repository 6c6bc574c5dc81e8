"""What an import may do to the catalog: its mode, and what becomes of the catalog's
products that its file does not name. Chosen at upload (API fields, the Import page),
kept on the job row, applied by the engine's SQL."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ImportMode(StrEnum):
    # New SKUs are created, known ones updated (where they differ).
    create_update = "create_update"
    # New SKUs are created; known ones are skipped and counted (`skipped_existing`).
    create_only = "create_only"
    # Known SKUs are updated; unknown ones are skipped and counted (`skipped_unknown`).
    update_only = "update_only"


class MissingChoice(StrEnum):
    """What happens to catalog products whose SKU is not in the file."""

    leave = "leave"
    deactivate = "deactivate"
    delete = "delete"


class ImportOptionsInvalid(ValueError):
    """A mode or "missing from the file" choice that does not exist."""


class DeleteMissingRefused(PermissionError):
    """Deleting the products missing from the file needs an admin."""


class DeleteMissingNotConfirmed(ValueError):
    """Deleting the products missing from the file needs an explicit confirmation."""


@dataclass(frozen=True)
class ImportOptions:
    mode: ImportMode = ImportMode.create_update
    missing: MissingChoice = MissingChoice.leave

    @classmethod
    def parse(
        cls,
        mode: str | None,
        missing: str | None,
        *,
        is_admin: bool,
        confirm_delete_missing: bool,
    ) -> ImportOptions:
        """The caller's choices, checked: a bad value, a delete by a non-admin or one not
        confirmed raises, naming the problem."""
        try:
            chosen_mode = ImportMode((mode or ImportMode.create_update).strip())
        except ValueError:
            raise ImportOptionsInvalid(
                f"mode must be one of {', '.join(ImportMode)}, not {mode!r}"
            ) from None
        try:
            chosen_missing = MissingChoice((missing or MissingChoice.leave).strip())
        except ValueError:
            raise ImportOptionsInvalid(
                f"missing must be one of {', '.join(MissingChoice)}, not {missing!r}"
            ) from None
        if chosen_missing == MissingChoice.delete:
            if not is_admin:
                raise DeleteMissingRefused(
                    "deleting the products missing from the file needs the admin role"
                )
            if not confirm_delete_missing:
                raise DeleteMissingNotConfirmed(
                    "missing=delete deletes every catalog product whose SKU is not in the "
                    "file: send confirm_delete_missing=true to do it"
                )
        return cls(mode=chosen_mode, missing=chosen_missing)


def truthy(value: str | None) -> bool:
    """A form or query flag: true, 1, yes or on (any case)."""
    return (value or "").strip().lower() in ("true", "1", "yes", "on")
