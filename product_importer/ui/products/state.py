"""State of the Products page: the grid (filters, sort, pages in the URL), the product form,
deleting one product, and deleting all of them with live progress (the export: its
substate, export_state.py).

The URL is the grid's source of truth: a change of filter, sort or page navigates to the
new URL (replacing the history entry), and the page's `on_load` reads it and queries. So a
filtered view can be shared, and it survives a reload. Every handler calls the same
domain functions as the API, so the two can never disagree."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlencode

import reflex as rx

from product_importer.access import Role
from product_importer.catalog_guard import CatalogBusy
from product_importer.models import JobStatus, Product
from product_importer.products import bulk_delete, editing
from product_importer.products.bulk_delete import (
    BULK_DELETE,
    BulkDeleteSnapshot,
    bulk_delete_snapshot,
)
from product_importer.products.fields import ProductInvalid
from product_importer.products.listing import (
    DEFAULT_PAGE_SIZE,
    SORT_COLUMNS,
    ProductFilter,
    ProductSort,
    list_products,
)
from product_importer.ui.access import requires
from product_importer.ui.job_watch import Watchers
from product_importer.ui.products.rows import ProductRow, active_flag, int_param, row_of

log = logging.getLogger(__name__)


ROUTE = "/products"


PAGE_SIZES = (25, 50, 100, 200)


ACTIVE_CHOICES = ("all", "active", "inactive")


CONFIRM_WORD = "DELETE"


# The watcher that owns each (client token, job id) in this backend process.
_WATCHERS = Watchers()


class ProductsState(rx.State):
    """The Products page of one browser tab."""

    rows: list[ProductRow] = []
    # The page and size the rows were read for (the URL may already ask for the next).
    rows_page: int = 1
    rows_page_size: int = DEFAULT_PAGE_SIZE
    total: int = 0
    total_exact: bool = True
    catalog_empty: bool = False
    loaded: bool = False
    load_error: str = ""

    filter_q: str = ""  # one search across the SKU, the name and the description
    filter_sku: str = ""
    filter_name: str = ""
    filter_description: str = ""
    filter_active: str = "all"
    sort: str = "sku"
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE

    # The create / edit form (product id 0 = a new product).
    form_open: bool = False
    form_product_id: int = 0
    form_sku: str = ""
    form_name: str = ""
    form_description: str = ""
    form_price: str = ""
    form_active: bool = True
    form_errors: dict[str, str] = {}
    form_saving: bool = False

    # Deleting one product.
    delete_open: bool = False
    delete_product_id: int = 0
    delete_sku: str = ""

    # Deleting all products.
    bulk_open: bool = False
    bulk_confirm_text: str = ""
    bulk_error: str = ""
    bulk_job_id: int = 0
    bulk_status: str = ""
    bulk_total: int = 0
    bulk_deleted: int = 0
    bulk_percent: float = 0.0
    bulk_message: str = ""

    # --- derived values -------------------------------------------------------------

    @rx.var
    def page_count(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @rx.var
    def page_numbers(self) -> list[int]:
        last = max(1, -(-self.total // self.page_size))
        first = max(1, min(self.page - 2, last - 4))
        return list(range(first, min(last, first + 4) + 1))

    @rx.var
    def total_label(self) -> str:
        if self.total == 0:
            return "No products"
        first = (self.rows_page - 1) * self.rows_page_size + 1
        last = min(self.total, first + len(self.rows) - 1)
        about = "" if self.total_exact else "about "
        if not self.rows:
            return f"{about}{self.total:,} products"
        return f"{first:,}–{last:,} of {about}{self.total:,} products"

    @rx.var
    def filtered(self) -> bool:
        return bool(
            self.filter_q or self.filter_sku or self.filter_name or self.filter_description
        ) or (self.filter_active != "all")

    @rx.var
    def bulk_running(self) -> bool:
        return self.bulk_status in (JobStatus.pending, JobStatus.processing)

    @rx.var
    def bulk_confirmed(self) -> bool:
        return self.bulk_confirm_text.strip() == CONFIRM_WORD

    # --- the grid -------------------------------------------------------------------

    def _filters(self) -> ProductFilter:
        return ProductFilter(
            q=self.filter_q,
            sku=self.filter_sku,
            name=self.filter_name,
            description=self.filter_description,
            active=active_flag(self.filter_active),
        )

    def _url(self) -> str:
        params: dict[str, str | int] = {
            key: value
            for key, value in (
                ("q", self.filter_q.strip()),
                ("sku", self.filter_sku.strip()),
                ("name", self.filter_name.strip()),
                ("description", self.filter_description.strip()),
            )
            if value
        }
        if self.filter_active != "all":
            params["active"] = self.filter_active
        if self.sort != "sku":
            params["sort"] = self.sort
        if self.page != 1:
            params["page"] = self.page
        if self.page_size != DEFAULT_PAGE_SIZE:
            params["size"] = self.page_size
        return ROUTE + ("?" + urlencode(params) if params else "")

    def _read_url(self) -> None:
        query = self.router.url.query_parameters
        self.filter_q = query.get("q", "")
        self.filter_sku = query.get("sku", "")
        self.filter_name = query.get("name", "")
        self.filter_description = query.get("description", "")
        active = query.get("active", "all")
        self.filter_active = active if active in ACTIVE_CHOICES else "all"
        sort = query.get("sort", "sku")
        self.sort = sort if sort.lstrip("-") in SORT_COLUMNS else "sku"
        self.page = int_param(query.get("page"), 1)
        self.page_size = int_param(query.get("size"), DEFAULT_PAGE_SIZE, PAGE_SIZES)

    async def _query(self) -> None:
        try:
            result = await asyncio.to_thread(
                list_products,
                self._filters(),
                ProductSort.parse(self.sort),
                page=self.page,
                page_size=self.page_size,
            )
            empty = result.total == 0 and (
                self._filters().is_empty()
                or (await asyncio.to_thread(list_products, page_size=1)).total == 0
            )
        except Exception as exc:  # the page still renders; the reason is shown
            log.exception("could not list products")
            self.load_error = f"could not read the products: {exc}"
            return
        self.rows = [row_of(p) for p in result.items]
        self.rows_page, self.rows_page_size = self.page, self.page_size
        self.total = result.total
        self.total_exact = result.total_is_exact
        self.catalog_empty = empty
        self.load_error = ""
        self.loaded = True

    @rx.event
    @requires(Role.editor, page_load=True)
    async def load_page(self):
        """Show the view the URL names, and follow the delete-all that runs, else the one
        the card still shows unfinished (re-attaching, ui/job_watch.py: its end may have
        come while the tab was away)."""
        self._read_url()
        await self._query()
        running = await asyncio.to_thread(bulk_delete.active_bulk_delete)
        if running is not None and running.id is not None:
            self._show_bulk(bulk_delete_snapshot(running))
            return ProductsState.watch_bulk_delete(running.id)
        if self.bulk_running and self.bulk_job_id:
            return ProductsState.watch_bulk_delete(self.bulk_job_id)

    def _navigate(self, *, keep_page: bool = False):
        if not keep_page:
            self.page = 1
        return rx.redirect(self._url(), replace=True)

    @rx.event
    @requires(Role.editor)
    def set_filter_q(self, value: str):
        self.filter_q = value
        return self._navigate()

    @rx.event
    @requires(Role.editor)
    def set_filter_sku(self, value: str):
        self.filter_sku = value
        return self._navigate()

    @rx.event
    @requires(Role.editor)
    def set_filter_name(self, value: str):
        self.filter_name = value
        return self._navigate()

    @rx.event
    @requires(Role.editor)
    def set_filter_description(self, value: str):
        self.filter_description = value
        return self._navigate()

    @rx.event
    @requires(Role.editor)
    def set_filter_active(self, value: str):
        self.filter_active = value if value in ACTIVE_CHOICES else "all"
        return self._navigate()

    @rx.event
    @requires(Role.editor)
    def clear_filters(self):
        self.filter_q = self.filter_sku = self.filter_name = self.filter_description = ""
        self.filter_active = "all"
        return self._navigate()

    @rx.event
    @requires(Role.editor)
    def sort_by(self, column: str):
        """Sort by a column; the same column again flips the direction."""
        self.sort = f"-{column}" if self.sort == column else column
        return self._navigate()

    @rx.event
    @requires(Role.editor)
    def go_to_page(self, page: int):
        self.page = max(1, min(int(page), self.page_count))
        return self._navigate(keep_page=True)

    @rx.event
    @requires(Role.editor)
    def set_page_size(self, value: str):
        self.page_size = int_param(value, DEFAULT_PAGE_SIZE, PAGE_SIZES)
        return self._navigate()

    # --- create and edit ------------------------------------------------------------

    def _fill_form(self, product: Product | None) -> None:
        self.form_product_id = int(product.id or 0) if product else 0
        self.form_sku = product.sku if product else ""
        self.form_name = product.name if product else ""
        self.form_description = product.description if product else ""
        self.form_price = "" if product is None or product.price is None else str(product.price)
        self.form_active = product.active if product else True
        self.form_errors = {}
        self.form_saving = False

    @rx.event
    @requires(Role.editor)
    def open_create(self):
        self._fill_form(None)
        self.form_open = True

    @rx.event
    @requires(Role.editor)
    async def open_edit(self, product_id: int):
        try:
            product = await asyncio.to_thread(editing.get_product, product_id)
        except editing.ProductNotFound:
            await self._query()
            return rx.toast.error("This product was deleted meanwhile.")
        self._fill_form(product)
        self.form_open = True

    @rx.event
    @requires(Role.editor)
    def set_form_open(self, is_open: bool):
        self.form_open = is_open

    @rx.event
    @requires(Role.editor)
    def set_form_sku(self, value: str):
        self.form_sku = value
        self.form_errors = {k: v for k, v in self.form_errors.items() if k != "sku"}

    @rx.event
    @requires(Role.editor)
    def set_form_name(self, value: str):
        self.form_name = value
        self.form_errors = {k: v for k, v in self.form_errors.items() if k != "name"}

    @rx.event
    @requires(Role.editor)
    def set_form_description(self, value: str):
        self.form_description = value
        self.form_errors = {k: v for k, v in self.form_errors.items() if k != "description"}

    @rx.event
    @requires(Role.editor)
    def set_form_price(self, value: str):
        self.form_price = value
        self.form_errors = {k: v for k, v in self.form_errors.items() if k != "price"}

    @rx.event
    @requires(Role.editor)
    def set_form_active(self, value: bool):
        self.form_active = value

    @rx.event
    @requires(Role.editor)
    async def save_product(self):
        """Create or update the product in the form; field errors show under the fields."""
        data = {
            "sku": self.form_sku,
            "name": self.form_name,
            "description": self.form_description,
            "price": self.form_price,
            "active": self.form_active,
        }
        self.form_saving = True
        try:
            if self.form_product_id:
                product = await asyncio.to_thread(
                    editing.update_product, self.form_product_id, data, partial=False
                )
            else:
                product = await asyncio.to_thread(editing.create_product, data)
        except ProductInvalid as exc:
            self.form_errors = exc.errors
            return
        except editing.SkuTaken as exc:
            self.form_errors = {"sku": str(exc)}
            return
        except editing.ProductNotFound:
            self.form_open = False
            await self._query()
            return rx.toast.error(
                f"Product {self.form_sku} was deleted meanwhile, so the changes were not saved."
            )
        finally:
            self.form_saving = False
        verb = "updated" if self.form_product_id else "created"
        self.form_open = False
        await self._query()
        return rx.toast.success(f"Product {product.sku} {verb}")

    # --- delete one -----------------------------------------------------------------

    @rx.event
    @requires(Role.editor)
    def ask_delete(self, product_id: int, sku: str):
        self.delete_product_id = product_id
        self.delete_sku = sku
        self.delete_open = True

    @rx.event
    @requires(Role.editor)
    def set_delete_open(self, is_open: bool):
        self.delete_open = is_open

    @rx.event
    @requires(Role.editor)
    async def confirm_delete(self):
        self.delete_open = False
        try:
            product = await asyncio.to_thread(editing.delete_product, self.delete_product_id)
        except editing.ProductNotFound:
            await self._query()
            return rx.toast.error(f"Product {self.delete_sku} was already deleted.")
        await self._query()
        return rx.toast.success(f"Product {product.sku} deleted")

    # --- delete all -----------------------------------------------------------------

    @rx.event
    @requires(Role.admin)
    def open_bulk_delete(self):
        self.bulk_confirm_text = ""
        self.bulk_error = ""
        self.bulk_open = True

    @rx.event
    @requires(Role.admin)
    def set_bulk_open(self, is_open: bool):
        self.bulk_open = is_open

    @rx.event
    @requires(Role.admin)
    def set_bulk_confirm_text(self, value: str):
        self.bulk_confirm_text = value

    def _show_bulk(self, snapshot: BulkDeleteSnapshot) -> None:
        self.bulk_job_id = snapshot.job_id
        self.bulk_status = snapshot.status
        self.bulk_total = snapshot.total
        self.bulk_deleted = snapshot.deleted
        self.bulk_percent = snapshot.percent
        if snapshot.status == JobStatus.completed:
            self.bulk_message = f"Deleted {snapshot.deleted:,} products."
        elif snapshot.status == JobStatus.failed:
            self.bulk_message = f"The delete failed: {snapshot.error}"
        elif snapshot.waiting_for_worker and snapshot.status == JobStatus.processing:
            self.bulk_message = (
                "Waiting for a worker: the worker running the delete stopped (nothing was "
                "deleted). Another one runs it again from the start."
            )
        elif snapshot.total:
            self.bulk_message = f"Deleting {snapshot.deleted:,} of {snapshot.total:,} products…"
        elif snapshot.status == JobStatus.processing:
            self.bulk_message = "Starting: waiting for products being saved to be done…"
        else:
            self.bulk_message = "Waiting for a worker to start the delete…"

    @rx.event
    @requires(Role.admin)
    async def start_bulk_delete(self):
        """Queue the delete of every product (after the typed confirmation) and follow it."""
        if self.bulk_confirm_text.strip() != CONFIRM_WORD:
            self.bulk_error = f"type {CONFIRM_WORD} to confirm"
            return
        try:
            job = await asyncio.to_thread(bulk_delete.request_bulk_delete)
        except CatalogBusy as exc:
            self.bulk_error = str(exc)
            return
        self.bulk_open = False
        self._show_bulk(bulk_delete_snapshot(job))
        return ProductsState.watch_bulk_delete(int(job.id or 0))

    @rx.event
    @requires(Role.editor)
    def dismiss_bulk(self):
        self.bulk_status = ""
        self.bulk_message = ""
        self.bulk_job_id = 0

    @rx.event(background=True)
    @requires(Role.editor)
    async def watch_bulk_delete(self, job_id: int):
        """Push the delete's progress into this tab until the watch ends."""
        token = self.router.session.client_token
        watching = _WATCHERS.watching("delete-all", job_id, token, BULK_DELETE.follow(job_id))
        async with watching as watch:
            async for snapshot in watch:
                async with self:
                    # Another watcher of this tab (e.g. in the web process of its old
                    # socket) may have shown the end already: one toast, not two.
                    seen = self.bulk_job_id == job_id and self.bulk_status == snapshot.status
                    self._show_bulk(snapshot)
                if snapshot.is_terminal and not seen:
                    async with self:
                        await self._query()
                        message = self.bulk_message
                    if snapshot.status == JobStatus.completed:
                        yield rx.toast.success(message)
                    else:
                        yield rx.toast.error(message)
