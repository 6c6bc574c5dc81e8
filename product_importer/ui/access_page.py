"""The Access page (admins): users with their roles, and API tokens for scripts."""

from __future__ import annotations

import reflex as rx

from product_importer.ui.access_state import AccessState, TokenRow, UserRow
from product_importer.ui.shell import page_shell
from product_importer.ui.tables import (
    TIME_WIDTH,
    Column,
    actions_cell,
    clipped,
    data_table,
    wrapped,
)
from product_importer.ui.widgets import (
    confirm_dialog,
    copy_button,
    dismissible_error,
)

ROLES = ["editor", "admin"]
USER_COLUMNS = (Column("User"), Column("Role", "8rem"), Column("Created", TIME_WIDTH))
TOKEN_COLUMNS = (
    Column("Token"),
    Column("Role", "6rem"),
    Column("Ends in", "6rem"),
    Column("By", "9rem"),
    Column("Created", TIME_WIDTH),
    Column("Last used", TIME_WIDTH),
)


def _secret_callout() -> rx.Component:
    return rx.cond(
        AccessState.secret_value != "",
        rx.callout.root(
            rx.vstack(
                rx.text(AccessState.secret_label, weight="bold"),
                rx.hstack(
                    rx.code(
                        AccessState.secret_value,
                        size="3",
                        data_testid="secret-value",
                        overflow_wrap="anywhere",
                    ),
                    copy_button(AccessState.secret_value, "Secret"),
                    align="center",
                    wrap="wrap",
                ),
                rx.text(
                    "Copy it now: it is stored hashed and cannot be shown again.",
                    size="2",
                    color_scheme="gray",
                ),
                rx.button("Done", size="1", variant="soft", on_click=AccessState.hide_secret),
                spacing="2",
            ),
            color_scheme="amber",
            width="100%",
        ),
    )


def _problem() -> rx.Component:
    return dismissible_error(AccessState.problem, AccessState.clear_problem)


def _confirmed(label: str, title: rx.Var | str, description: str, on_confirm) -> rx.Component:
    """A red button that asks before it does something that cannot be undone."""
    return confirm_dialog(
        wrapped(title),
        description,
        label,
        on_confirm,
        trigger=rx.button(label, size="1", variant="soft", color_scheme="red"),
    )


def _user_row(user: UserRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(clipped(user.username)),
        rx.table.cell(
            rx.select(
                ROLES,
                value=user.role,
                on_change=lambda role: AccessState.set_role(user.id, role),
                size="1",
            )
        ),
        rx.table.cell(clipped(user.created)),
        actions_cell(
            rx.button(
                "Reset password",
                size="1",
                variant="soft",
                on_click=AccessState.reset_password(user.id, user.username),
            ),
            _confirmed(
                "Delete",
                f"Delete {user.username}?",
                "They are signed out at once and cannot sign in again.",
                AccessState.delete_user(user.id),
            ),
        ),
    )


def _token_row(token: TokenRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(clipped(token.name)),
        rx.table.cell(rx.badge(token.role, variant="soft")),
        rx.table.cell(clipped(rx.code(token.hint), title=token.hint)),
        rx.table.cell(clipped(token.created_by)),
        rx.table.cell(clipped(token.created)),
        rx.table.cell(clipped(token.last_used)),
        actions_cell(
            rx.cond(
                token.revoked,
                rx.badge("revoked", color_scheme="gray"),
                _confirmed(
                    "Revoke",
                    f"Revoke {token.name}?",
                    "Scripts using this token stop working at once.",
                    AccessState.revoke_token(token.id),
                ),
            )
        ),
    )


def _labelled(label: str, field_id: str, field: rx.Component) -> rx.Component:
    """A form field with its visible label above it."""
    return rx.vstack(
        rx.el.label(
            label,
            html_for=field_id,
            font_size="var(--font-size-1)",
            font_weight="500",
            color="var(--gray-11)",
        ),
        field,
        spacing="1",
    )


def _create_form(
    name_field: str, label: str, placeholder: str, submit: str, on_submit
) -> rx.Component:
    name_id, role_id = f"{name_field}-new", f"{name_field}-new-role"
    return rx.form(
        rx.hstack(
            _labelled(
                label,
                name_id,
                rx.input(
                    name=name_field, id=name_id, placeholder=placeholder, required=True, size="2"
                ),
            ),
            _labelled(
                "Role",
                role_id,
                rx.select(ROLES, name="role", default_value="editor", size="2", id=role_id),
            ),
            rx.button(submit, type="submit", size="2"),
            spacing="2",
            wrap="wrap",
            align="end",
        ),
        on_submit=on_submit,
        reset_on_submit=True,
    )


def _section(title: str, hint: str, form: rx.Component, table: rx.Component) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(title, size="4"),
            rx.text(hint, size="2", color_scheme="gray"),
            form,
            table,
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def access_page() -> rx.Component:
    users_table = data_table(
        USER_COLUMNS,
        rx.table.body(rx.foreach(AccessState.users, _user_row)),
        actions_width="12rem",
        variant="ghost",
    )
    tokens_table = rx.cond(
        AccessState.tokens.length() > 0,
        data_table(
            TOKEN_COLUMNS,
            rx.table.body(rx.foreach(AccessState.tokens, _token_row)),
            actions_width="6rem",
            variant="ghost",
        ),
        rx.text("No API tokens yet.", color_scheme="gray", size="2"),
    )
    return page_shell(
        "/access",
        rx.heading("Access", size="7"),
        _secret_callout(),
        _problem(),
        _section(
            "Users",
            "Editors import and change products. Admins also manage webhooks, users, "
            "tokens and delete-all. A new user gets a random password, shown once.",
            _create_form(
                "username", "User name", "e.g. maria", "Add user", AccessState.create_user
            ),
            users_table,
        ),
        _section(
            "API tokens",
            "For scripts: send the header Authorization: Bearer <token>. A token is shown once.",
            _create_form(
                "name", "Token name", "token name", "Create token", AccessState.create_token
            ),
            tokens_table,
        ),
    )
