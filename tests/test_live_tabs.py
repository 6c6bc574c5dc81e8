"""A tab keeps its client token and its socket link across reconnects (ui/live_tabs.py), on
Reflex's real token manager and event namespace over a real Socket.IO server's bookkeeping."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import socketio
from reflex.app import EventNamespace
from reflex.utils.token_manager import LocalTokenManager

from product_importer.ui import live_tabs

NAMESPACE = "/_event"
TOKEN = "tab-token"


def test_reflex_still_has_what_live_tabs_patches() -> None:
    """Fails, naming what moved, when a Reflex upgrade changes the patched internals."""
    live_tabs.check_reflex_internals()


def test_install_is_applied_once_where_the_app_is_built() -> None:
    import product_importer.product_importer  # noqa: F401  (builds the app)

    assert LocalTokenManager.disconnect_token is live_tabs._disconnect_own_socket
    wrapped = EventNamespace.link_token_to_sid
    live_tabs.install()
    assert EventNamespace.link_token_to_sid is wrapped


def test_a_late_disconnect_of_an_old_socket_leaves_the_new_one_linked() -> None:
    live_tabs.install()

    async def scenario() -> None:
        manager = LocalTokenManager()
        await manager.link_token_to_sid(TOKEN, "old")
        await manager.disconnect_token(TOKEN, "old")
        await manager.link_token_to_sid(TOKEN, "new")
        await manager.disconnect_token(TOKEN, "old")  # the old socket's late cleanup
        assert await manager.is_token_connected(TOKEN)
        assert manager.token_to_sid[TOKEN] == "new"
        await manager.disconnect_token(TOKEN, "new")
        assert not await manager.is_token_connected(TOKEN)
        assert manager.sid_to_token == {}

    asyncio.run(scenario())


def _namespace() -> tuple[EventNamespace, socketio.AsyncServer]:
    live_tabs.install()
    server = socketio.AsyncServer(async_mode="asgi")
    # The namespace reads only these of the app here: no event processor, no state tree.
    app = SimpleNamespace(_event_processor=None, _state=None)
    namespace = EventNamespace(NAMESPACE, app=app)  # type: ignore[arg-type]
    server.register_namespace(namespace)
    return namespace, server


def test_a_tab_whose_old_socket_is_closing_keeps_its_token() -> None:
    """The reload, navigation and reconnect race: the new socket links before the old
    socket's disconnect has been cleaned up."""

    async def scenario() -> None:
        namespace, server = _namespace()
        old = await server.manager.connect("eio-old", NAMESPACE)
        await namespace.link_token_to_sid(old, TOKEN, update_state=False)
        # The old socket starts closing: Socket.IO calls on_disconnect, whose token
        # cleanup runs later, as a task.
        server.manager.pre_disconnect(old, NAMESPACE)
        cleanup = namespace.on_disconnect(old)
        new = await server.manager.connect("eio-new", NAMESPACE)
        await namespace.link_token_to_sid(new, TOKEN, update_state=False)
        assert namespace.sid_to_token[new] == TOKEN  # no new token: the same tab
        assert cleanup is not None
        await cleanup
        assert namespace.token_to_sid[TOKEN] == new
        assert await namespace._token_manager.is_token_connected(TOKEN)

    asyncio.run(scenario())


def test_tab_connected_asks_the_apps_token_manager() -> None:
    from product_importer.product_importer import app

    async def scenario() -> None:
        namespace = app.event_namespace
        assert namespace is not None
        assert not await live_tabs.tab_connected(TOKEN)
        await namespace._token_manager.link_token_to_sid(TOKEN, "sid-1")
        assert await live_tabs.tab_connected(TOKEN)
        await namespace._token_manager.disconnect_token(TOKEN, "sid-1")
        assert not await live_tabs.tab_connected(TOKEN)

    asyncio.run(scenario())
