"""Which browser tabs are connected, and tabs that keep their client token across reconnects.

Reflex links each tab's client token to its websocket in a token manager. Two of its rules
(Reflex 0.10.1) cost a tab its live updates after a navigation, a reload or a dropped socket:

- `LocalTokenManager.disconnect_token` unlinks the token whatever socket it belongs to by
  then, so the late disconnect of a tab's old socket unlinks its new one: deltas go to a
  "disconnected client" and watchers think the tab has gone;
- a token still linked to a socket that is already closing counts as a second tab, so the
  reconnecting tab is handed a new token and an empty state, while its watchers follow the
  old token.

`install()`, called once where the app is built, makes a disconnect unlink only its own
socket and lets a reconnecting tab keep its token when its old socket is closing.
`tab_connected()` is the one answer to "is this tab still there" for every watcher.
`check_reflex_internals()` names what changed if a Reflex upgrade moves what both rely on.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

from reflex.app import EventNamespace
from reflex.utils.token_manager import LocalTokenManager, TokenManager
from reflex_base.registry import RegistrationContext

_INSTALLED = "_product_importer_live_tabs"


class ReflexInternalsChanged(RuntimeError):
    """The Reflex internals this module relies on are not what it was written for."""


def check_reflex_internals() -> None:
    """Raise ReflexInternalsChanged, naming the difference, unless Reflex still has the
    token manager and namespace methods this module wraps, with their signatures."""
    expected = {
        (LocalTokenManager, "disconnect_token"): ["self", "token", "sid"],
        (TokenManager, "is_token_connected"): ["self", "token"],
        (EventNamespace, "link_token_to_sid"): ["self", "sid", "token", "update_state"],
        (EventNamespace, "on_disconnect"): ["self", "sid"],
    }
    problems = []
    for (cls, name), params in expected.items():
        method = getattr(cls, name, None)
        if method is None:
            problems.append(f"{cls.__name__}.{name} is gone")
            continue
        found = list(inspect.signature(inspect.unwrap(method)).parameters)
        if found != params:
            problems.append(f"{cls.__name__}.{name} takes {found}, not {params}")
    for name in ("token_to_socket", "sid_to_token", "instance_id"):
        if name not in vars(LocalTokenManager()):
            problems.append(f"LocalTokenManager has no attribute {name}")
    if problems:
        raise ReflexInternalsChanged(
            "Reflex changed what ui/live_tabs.py patches: " + "; ".join(problems)
        )


async def _disconnect_own_socket(self: LocalTokenManager, token: str, sid: str) -> None:
    """Unlink the socket `sid`; the token stays linked if a newer socket holds it."""
    record = self.token_to_socket.get(token)
    if record is not None and record.sid == sid:
        del self.token_to_socket[token]
    self.sid_to_token.pop(sid, None)


def _keeping_the_token(link: Any) -> Any:
    """Wrap EventNamespace.link_token_to_sid: a token whose socket is already closing is
    the same tab coming back, not a second tab; it keeps its token (and its state)."""

    @functools.wraps(link)
    async def link_token_to_sid(
        self: EventNamespace, sid: str, token: str, *, update_state: bool = True
    ) -> None:
        manager = self._token_manager
        record = manager.token_to_socket.get(token)
        if (
            record is not None
            and record.sid != sid
            and record.instance_id == manager.instance_id
            and self.server is not None
            and not self.server.manager.is_connected(record.sid, self.namespace)
        ):
            await manager.disconnect_token(token, record.sid)
        await link(self, sid, token, update_state=update_state)

    return link_token_to_sid


def install() -> None:
    """Apply both rules to Reflex's classes, once per process (see the module docstring)."""
    if getattr(EventNamespace, _INSTALLED, False):
        return
    check_reflex_internals()
    LocalTokenManager.disconnect_token = _disconnect_own_socket  # type: ignore[method-assign]
    EventNamespace.link_token_to_sid = _keeping_the_token(  # type: ignore[method-assign]
        EventNamespace.link_token_to_sid
    )
    setattr(EventNamespace, _INSTALLED, True)


async def tab_connected(token: str) -> bool:
    """Whether the browser tab with this client token has a live websocket, on this backend
    worker or (with Reflex's Redis state manager) on another. A tab counts as present when
    no app is running to ask (e.g. a handler called outside a server)."""
    try:
        namespace = RegistrationContext.get().app.event_namespace
    except Exception:
        return True
    if namespace is None:
        return True
    return await namespace._token_manager.is_token_connected(token)
