"""Who may do what: users with roles, sign-in sessions, API tokens.

The API (api/access.py) and the UI (ui/access.py) both ask `principal_for_session` /
`principal_for_token` and `Role.allows`; neither decides on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    editor = "editor"  # imports and product changes
    admin = "admin"  # everything: webhooks, users, tokens, delete-all

    def allows(self, needed: Role) -> bool:
        """Whether a caller with this role may do what needs `needed`."""
        return self is Role.admin or self is needed

    def at_most(self, other: Role) -> Role:
        """The smaller of the two roles (a token is worth no more than its owner)."""
        return self if other.allows(self) else other


@dataclass(frozen=True)
class Principal:
    """A signed-in caller: a user (through a session) or an API token."""

    kind: str  # "user" or "token"
    id: int
    name: str
    role: Role
    # A token's owner (the user who made it), None for a token made on the command line.
    owner_id: int | None = None

    @property
    def user_id(self) -> int | None:
        """The user this caller acts for: the user, or the token's owner."""
        return self.id if self.kind == "user" else self.owner_id

    @property
    def owner_key(self) -> str:
        """Whose things this caller's are (an export, ...): its user's ("user:<id>"), or
        for a token without an owner, its own ("token:<id>")."""
        user_id = self.user_id
        return f"user:{user_id}" if user_id is not None else f"token:{self.id}"

    def may(self, needed: Role) -> bool:
        return self.role.allows(needed)


class AccessProblem(ValueError):
    """A request about users or tokens that cannot be done; the message says why."""


class NameTaken(AccessProblem):
    """A user name is taken already (in any letter case)."""


class AccessRecordNotFound(LookupError):
    """No user or API token with this id."""
