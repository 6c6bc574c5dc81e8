"""State of the Access page (admins): users and API tokens."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime
from typing import Any

import reflex as rx

from product_importer.access import AccessProblem, Role, tokens, users
from product_importer.ui.access import principal_of, requires
from product_importer.ui.times import shown_time


@dataclasses.dataclass
class UserRow:
    id: int = 0
    username: str = ""
    role: str = ""
    created: str = ""


@dataclasses.dataclass
class TokenRow:
    id: int = 0
    name: str = ""
    role: str = ""
    hint: str = ""
    created_by: str = ""
    created: str = ""
    last_used: str = ""
    revoked: bool = False


def _when(moment: datetime | None) -> str:
    return shown_time(moment, missing="never")


class AccessState(rx.State):
    users: list[UserRow] = []
    tokens: list[TokenRow] = []
    # A password or token shown once, right after it was made, with what it belongs to.
    secret_label: str = ""
    secret_value: str = ""
    problem: str = ""

    async def _reload(self) -> None:
        user_list, token_list = await asyncio.gather(
            asyncio.to_thread(users.list_users), asyncio.to_thread(tokens.list_tokens)
        )
        self.users = [
            UserRow(u.id, u.username, u.role.value, _when(u.created_at)) for u in user_list
        ]
        self.tokens = [
            TokenRow(
                t.id, t.name, t.role.value, t.hint, t.created_by, _when(t.created_at),
                _when(t.last_used_at), t.revoked_at is not None,
            )
            for t in token_list
        ]  # fmt: skip

    def _reveal(self, label: str, value: str) -> None:
        self.secret_label, self.secret_value, self.problem = label, value, ""

    @rx.event
    @requires(Role.admin, page_load=True)
    async def load(self):
        self.secret_label = self.secret_value = self.problem = ""
        await self._reload()

    @rx.event
    @requires(Role.admin)
    def hide_secret(self):
        self.secret_label = self.secret_value = ""

    @rx.event
    @requires(Role.admin)
    def clear_problem(self):
        self.problem = ""

    @rx.event
    @requires(Role.admin)
    async def create_user(self, form: dict[str, Any]):
        username, role = str(form.get("username", "")).strip(), str(form.get("role", "editor"))
        try:
            _, password = await asyncio.to_thread(users.create_user, username, Role(role))
        except (AccessProblem, ValueError) as exc:
            self.problem = str(exc)
            return None
        self._reveal(f"Password of {username} (shown once)", password)
        await self._reload()
        return rx.toast.success(f"User {username} created")

    @rx.event
    @requires(Role.admin)
    async def set_role(self, user_id: int, role: str):
        try:
            await asyncio.to_thread(users.update_user, user_id, role=Role(role))
        except (AccessProblem, LookupError) as exc:
            return rx.toast.error(str(exc))
        await self._reload()
        return rx.toast.success(f"Role changed to {role}")

    @rx.event
    @requires(Role.admin)
    async def reset_password(self, user_id: int, username: str):
        password = users.new_password()
        try:
            await asyncio.to_thread(users.update_user, user_id, password=password)
        except LookupError as exc:
            return rx.toast.error(str(exc))
        self._reveal(f"New password of {username} (shown once)", password)
        return rx.toast.success(f"{username} has a new password and was signed out")

    @rx.event
    @requires(Role.admin)
    async def delete_user(self, user_id: int):
        try:
            await asyncio.to_thread(users.delete_user, user_id)
        except (AccessProblem, LookupError) as exc:
            return rx.toast.error(str(exc))
        await self._reload()
        return rx.toast.success("User deleted")

    @rx.event
    @requires(Role.admin)
    async def create_token(self, form: dict[str, Any]):
        name, role = str(form.get("name", "")), str(form.get("role", "editor"))
        principal = await principal_of(self)
        try:
            info, token = await asyncio.to_thread(
                tokens.create_token,
                name,
                Role(role),
                principal.name if principal else "?",
                principal.user_id if principal else None,
            )
        except (AccessProblem, ValueError) as exc:
            self.problem = str(exc)
            return None
        self._reveal(f"API token {info.name} (shown once)", token)
        await self._reload()
        return rx.toast.success(f"Token {info.name} created")

    @rx.event
    @requires(Role.admin)
    async def revoke_token(self, token_id: int):
        try:
            await asyncio.to_thread(tokens.revoke_token, token_id)
        except LookupError as exc:
            return rx.toast.error(str(exc))
        await self._reload()
        return rx.toast.success("Token revoked")
