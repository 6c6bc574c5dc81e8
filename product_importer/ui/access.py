"""Access control for the Reflex side: every event handler of ours declares the role it
needs, and `AccessMiddleware` checks it on the server before the handler runs.

The browser's session cookie is HTTP-only: page scripts cannot read it, but the browser
sends it with the websocket handshake, and Reflex hands those headers to every event as
`router_data["headers"]`. The middleware resolves the session from there on each event,
so a session that is signed out or expires stops working at once, mid-page.

It fails closed: a handler of ours with no `@requires(...)` or `@public` is refused (and
logged), so a new handler cannot be born open.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from http.cookies import CookieError, SimpleCookie
from typing import Any, TypeVar
from urllib.parse import quote

import reflex as rx
from reflex.middleware import Middleware
from reflex.state import BaseState, StateUpdate
from reflex_base.event import Event, EventSpec
from reflex_base.registry import RegistrationContext

from product_importer.access import Principal, Role
from product_importer.access.sessions import COOKIE_NAME, principal_for_session

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable)

SIGN_IN_ROUTE = "/sign-in"


def requires(role: Role, *, page_load: bool = False) -> Callable[[F], F]:
    """Mark an event handler as needing `role` (put it under `@rx.event`). A `page_load`
    handler runs in a page's on_load after the page guard, which already sends a refused
    visitor away with one message: refused, it is dropped without a second one."""

    def mark(handler: F) -> F:
        handler.required_role = role  # type: ignore[attr-defined]
        handler.page_load = page_load  # type: ignore[attr-defined]
        return handler

    return mark


def public(handler: F) -> F:
    """Mark an event handler anyone may call (sign-in page, session loading)."""
    handler.public = True  # type: ignore[attr-defined]
    return handler


def session_token(router_data: dict[str, Any]) -> str | None:
    """The session token from the cookie header the browser sent with the websocket."""
    header = (router_data.get("headers") or {}).get("cookie") or ""
    try:
        morsel = SimpleCookie(header).get(COOKIE_NAME)
    except CookieError:
        return None
    return morsel.value if morsel else None


async def principal_of(state: BaseState) -> Principal | None:
    """Who is behind this state's browser tab, checked against the database now."""
    return await asyncio.to_thread(principal_for_session, session_token(state.router_data))


class Unmarked(LookupError):
    """An event handler of ours that declares no role."""


def _handler_fn(event_name: str) -> Callable | None:
    """Our handler function behind an event name; None for Reflex's own events. Raises
    Unmarked for unknown names."""
    registered = RegistrationContext.get().event_handlers.get(event_name)
    if registered is None:
        raise Unmarked(f"no event handler named {event_name}")
    if registered.states[0].__module__.startswith("reflex."):
        return None  # hydrate, on_load_internal, update_vars_internal, ...
    return registered.handler.fn


def needed_role(event_name: str) -> Role | None:
    """The role an event needs: None for Reflex's own events and `@public` handlers.
    Raises Unmarked for a handler of ours without a declaration, and for unknown names."""
    fn = _handler_fn(event_name)
    if fn is None or getattr(fn, "public", False):
        return None
    role = getattr(fn, "required_role", None)
    if not isinstance(role, Role):
        raise Unmarked(f"event handler {event_name} declares no role")
    return role


def is_page_load(event_name: str) -> bool:
    fn = _handler_fn(event_name)
    return bool(getattr(fn, "page_load", False))


def to_sign_in(path: str | None) -> EventSpec:
    """Off to the sign-in page, which comes back to `path` afterwards. Reflex names the
    root page "/index": the way back is "/"."""
    back = "/" if not path or path.rstrip("/") in ("", "/index") else path
    return rx.redirect(f"{SIGN_IN_ROUTE}?next={quote(back)}")


def refusal(role: Role, principal: Principal | None, path: str) -> list | None:
    """What to send back instead of running an event that needs `role`, or None to run it."""
    if principal is None:
        return [to_sign_in(path)]
    if not principal.may(role):
        return [rx.toast.error(f"This needs the {role} role.")]
    return None


class AccessMiddleware(Middleware):
    """Checks every event against the session before Reflex runs its handler."""

    async def preprocess(self, app: Any, state: BaseState, event: Event) -> StateUpdate | None:
        try:
            role = needed_role(event.name)
        except Unmarked as exc:
            log.error("refused: %s", exc)
            return StateUpdate(events=Event.from_event_type(rx.toast.error("Not available.")))
        if role is None:
            return None
        path = (state.router_data or {}).get("pathname") or "/"
        events = refusal(role, await principal_of(state), path)
        if events is None:
            return None
        if is_page_load(event.name):
            return StateUpdate()  # the page guard has already said it and sent them away
        return StateUpdate(events=Event.from_event_type(events))
