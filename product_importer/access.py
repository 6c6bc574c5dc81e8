"""Roles and what they may do. The one place both the API and the UI ask.

Issue "access control" fills in sign-in, sessions and tokens behind these names; until then
every caller passes. Routes and event handlers that read or change data must already declare
the role they need, so they are born protected.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    editor = "editor"  # imports and product changes
    admin = "admin"  # everything: webhooks, users, tokens, delete-all

    def allows(self, needed: Role) -> bool:
        """Whether a caller with this role may do what needs `needed`."""
        return self is Role.admin or self is needed
