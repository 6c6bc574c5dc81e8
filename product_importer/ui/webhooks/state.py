"""State of the Webhooks page: endpoints with their health, the create/edit form, the
test button, secret reveal, and the delivery log with filters and redelivery.

Handlers call the same domain functions as the webhooks API (`product_importer.webhooks`),
in a thread, so the browser and the API can never disagree."""

from __future__ import annotations

import asyncio
import logging

import reflex as rx

from product_importer.access import Role
from product_importer.ui.access import requires
from product_importer.ui.webhooks.rows import DeliveryRow, EndpointRow, delivery_row, endpoint_row
from product_importer.webhooks import deliveries, endpoints
from product_importer.webhooks.endpoints import (
    ALL_EVENTS,
    EVENT_TYPES,
    Endpoint,
    EndpointChanges,
    InvalidEndpoint,
)

log = logging.getLogger(__name__)


LOG_PAGE_SIZE = 25


ANY = "all"


class WebhooksState(rx.State):
    """The Webhooks page of one browser tab."""

    rows: list[EndpointRow] = []
    page_error: str = ""

    # The create / edit form.
    form_open: bool = False
    form_id: int = 0
    form_url: str = ""
    form_description: str = ""
    form_all_events: bool = True
    form_events: list[str] = []
    form_enabled: bool = True
    url_error: str = ""
    events_error: str = ""
    description_error: str = ""
    saving: bool = False

    # A secret, shown once after create or rotate.
    secret_open: bool = False
    secret_value: str = ""
    secret_url: str = ""

    # Test sends in flight (endpoint ids).
    testing: list[int] = []

    # The delivery log of one endpoint.
    log_endpoint_id: int = 0
    log_url: str = ""
    log_rows: list[DeliveryRow] = []
    log_total: int = 0
    log_status: str = ANY
    log_event_type: str = ANY

    # --- the list -------------------------------------------------------------------

    @rx.event
    @requires(Role.admin, page_load=True)
    async def load_page(self):
        await self._reload()
        if self.log_endpoint_id:
            await self._reload_log()

    async def _reload(self) -> None:
        try:
            found = await asyncio.to_thread(endpoints.list_endpoints)
            tests = await asyncio.to_thread(deliveries.latest_tests)
        except Exception as exc:  # the page still renders; the reason is shown
            log.exception("could not read the webhooks")
            self.page_error = f"could not read the webhooks: {exc}"
            return
        self.rows = [endpoint_row(e, tests.get(e.id)) for e in found]
        self.page_error = ""

    @rx.event
    @requires(Role.admin)
    async def set_enabled(self, endpoint_id: int, enabled: bool):
        try:
            await asyncio.to_thread(
                endpoints.update_endpoint, endpoint_id, EndpointChanges(enabled=enabled)
            )
        except endpoints.EndpointNotFound as exc:
            self.page_error = str(exc)
        await self._reload()

    @rx.event
    @requires(Role.admin)
    async def delete(self, endpoint_id: int):
        try:
            await asyncio.to_thread(endpoints.delete_endpoint, endpoint_id)
        except endpoints.EndpointNotFound as exc:
            self.page_error = str(exc)
        if self.log_endpoint_id == endpoint_id:
            self._close_log()
        await self._reload()
        return rx.toast.info("Webhook deleted")

    @rx.event
    @requires(Role.admin)
    async def rotate_secret(self, endpoint_id: int):
        try:
            endpoint = await asyncio.to_thread(endpoints.rotate_secret, endpoint_id)
        except endpoints.EndpointNotFound as exc:
            self.page_error = str(exc)
            return
        self._reveal(endpoint)
        await self._reload()

    def _reveal(self, endpoint: Endpoint) -> None:
        self.secret_value = endpoint.secret
        self.secret_url = endpoint.shown_url
        self.secret_open = True

    @rx.event
    @requires(Role.admin)
    def close_secret(self):
        # The secret leaves the tab's state as soon as it is no longer shown.
        self.secret_open = False
        self.secret_value = ""

    @rx.event
    @requires(Role.admin)
    def clear_error(self):
        self.page_error = ""

    # --- test -----------------------------------------------------------------------

    @rx.event(background=True)
    @requires(Role.admin)
    async def test(self, endpoint_id: int):
        """Send a sample event (up to the 15 s timeout) without holding the page."""
        async with self:
            if endpoint_id in self.testing:
                return
            self.testing = [*self.testing, endpoint_id]
        problem = ""
        try:
            await asyncio.to_thread(deliveries.send_test_event, endpoint_id)
        except (endpoints.EndpointNotFound, InvalidEndpoint) as exc:
            problem = str(exc)
        async with self:
            self.testing = [i for i in self.testing if i != endpoint_id]
            await self._reload()
            if problem:
                self.page_error = problem
            if self.log_endpoint_id == endpoint_id:
                await self._reload_log()

    # --- the form -------------------------------------------------------------------

    def _clear_form_errors(self) -> None:
        self.url_error = self.events_error = self.description_error = ""

    @rx.event
    @requires(Role.admin)
    def open_create(self):
        self._clear_form_errors()
        self.form_id = 0
        self.form_url = ""
        self.form_description = ""
        self.form_all_events = True
        self.form_events = []
        self.form_enabled = True
        self.form_open = True

    @rx.event
    @requires(Role.admin)
    async def open_edit(self, endpoint_id: int):
        try:
            endpoint = await asyncio.to_thread(endpoints.get_endpoint, endpoint_id)
        except endpoints.EndpointNotFound as exc:
            self.page_error = str(exc)
            return
        self._clear_form_errors()
        self.form_id = endpoint.id
        self.form_url = endpoint.shown_url
        self.form_description = endpoint.description
        self.form_all_events = ALL_EVENTS in endpoint.events
        self.form_events = [e for e in endpoint.events if e != ALL_EVENTS]
        self.form_enabled = endpoint.enabled
        self.form_open = True

    @rx.event
    @requires(Role.admin)
    def set_form_open(self, value: bool):
        self.form_open = value

    @rx.event
    @requires(Role.admin)
    def set_form_url(self, value: str):
        self.form_url = value
        self.url_error = ""

    @rx.event
    @requires(Role.admin)
    def set_form_description(self, value: str):
        self.form_description = value
        self.description_error = ""

    @rx.event
    @requires(Role.admin)
    def set_form_all_events(self, value: bool):
        self.form_all_events = value
        self.events_error = ""

    @rx.event
    @requires(Role.admin)
    def set_form_enabled(self, value: bool):
        self.form_enabled = value

    @rx.event
    @requires(Role.admin)
    def toggle_event(self, event_type: str, checked: bool):
        chosen = [e for e in self.form_events if e != event_type]
        self.form_events = [e for e in EVENT_TYPES if e in chosen or (checked and e == event_type)]
        self.events_error = ""

    @rx.event
    @requires(Role.admin)
    async def save_form(self):
        """Create or change the endpoint; a bad field shows its error under the field."""
        self._clear_form_errors()
        events = [ALL_EVENTS] if self.form_all_events else list(self.form_events)
        self.saving = True
        yield
        try:
            if self.form_id:
                changes = EndpointChanges(
                    url=self.form_url,
                    events=events,
                    enabled=self.form_enabled,
                    description=self.form_description,
                )
                await asyncio.to_thread(endpoints.update_endpoint, self.form_id, changes)
            else:
                created = await asyncio.to_thread(
                    endpoints.create_endpoint,
                    self.form_url,
                    events,
                    enabled=self.form_enabled,
                    description=self.form_description,
                )
                self._reveal(created)
        except InvalidEndpoint as exc:
            problem = str(exc).removeprefix(f"{exc.field}: ")
            if exc.field == "events":
                self.events_error = problem
            elif exc.field == "description":
                self.description_error = problem
            else:
                self.url_error = problem
            self.saving = False
            return
        except endpoints.EndpointNotFound as exc:
            self.page_error = str(exc)
        self.saving = False
        self.form_open = False
        await self._reload()

    # --- the delivery log -------------------------------------------------------------

    @rx.event
    @requires(Role.admin)
    async def show_log(self, endpoint_id: int):
        self.log_endpoint_id = endpoint_id
        self.log_url = next((r.url for r in self.rows if r.id == endpoint_id), "")
        self.log_status = ANY
        self.log_event_type = ANY
        await self._reload_log()

    @rx.event
    @requires(Role.admin)
    def close_log(self):
        self._close_log()

    def _close_log(self) -> None:
        self.log_endpoint_id = 0
        self.log_rows = []
        self.log_total = 0

    @rx.event
    @requires(Role.admin)
    async def set_log_status(self, value: str):
        self.log_status = value
        await self._reload_log()

    @rx.event
    @requires(Role.admin)
    async def set_log_event_type(self, value: str):
        self.log_event_type = value
        await self._reload_log()

    @rx.event
    @requires(Role.admin)
    async def refresh_log(self):
        await self._reload()
        await self._reload_log()

    async def _reload_log(self) -> None:
        if not self.log_endpoint_id:
            return
        try:
            items, total = await asyncio.to_thread(
                deliveries.list_deliveries,
                self.log_endpoint_id,
                status=None if self.log_status == ANY else self.log_status,
                event_type=None if self.log_event_type == ANY else self.log_event_type,
                page_size=LOG_PAGE_SIZE,
            )
        except endpoints.EndpointNotFound as exc:
            self.page_error = str(exc)
            self._close_log()
            return
        self.log_rows = [delivery_row(d) for d in items]
        self.log_total = total

    @rx.event
    @requires(Role.admin)
    async def redeliver(self, delivery_id: int):
        try:
            await asyncio.to_thread(deliveries.redeliver, delivery_id)
        except (deliveries.DeliveryNotFound, deliveries.DeliveryInProgress) as exc:
            return rx.toast.info(str(exc))
        await self._reload_log()
        return rx.toast.info(f"Delivery {delivery_id} queued again")
