"""Who is signed in, for the page chrome, and the page guards every page loads with."""

from __future__ import annotations

import reflex as rx

from product_importer.access import Role
from product_importer.access.redirects import local_path
from product_importer.ui.access import principal_of, public, to_sign_in


class SessionState(rx.State):
    user_name: str = ""
    role: str = ""

    @rx.var
    def is_admin(self) -> bool:
        return self.role == Role.admin

    @rx.var
    def signed_in(self) -> bool:
        return self.user_name != ""

    def _forget(self) -> None:
        self.user_name = self.role = ""

    async def _guard(self, needed: Role):
        principal = await principal_of(self)
        if principal is None:
            self._forget()
            return to_sign_in(self.router.url.path)
        self.user_name, self.role = principal.name, principal.role.value
        if not principal.may(needed):
            return [rx.redirect("/"), rx.toast.error(f"That page needs the {needed} role.")]
        return None

    @rx.event
    @public
    async def load_editor_page(self):
        """on_load of every page: signed-in users only, else to the sign-in page."""
        return await self._guard(Role.editor)

    @rx.event
    @public
    async def load_admin_page(self):
        """on_load of admin pages: editors are sent back to the Import page."""
        return await self._guard(Role.admin)


class SignInState(rx.State):
    error: str = ""
    next_path: str = "/"
    # The user name typed before a refused sign-in, filled in again.
    username: str = ""

    @rx.event
    @public
    async def load(self):
        params = self.router.url.query_parameters
        self.error = params.get("error", "")
        self.username = params.get("user", "")
        self.next_path = local_path(params.get("next", "/"))
        if await principal_of(self) is not None:
            return rx.redirect(self.next_path)
        # Signed out (or the session ended): the next page this tab opens must not draw
        # the previous user's chrome while its guard asks who is there.
        (await self.get_state(SessionState))._forget()
        return None
