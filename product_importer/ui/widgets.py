"""Small pieces several pages share."""

from __future__ import annotations

import reflex as rx


def error_callout(message: rx.Var, on_dismiss: rx.event.EventSpec, **props) -> rx.Component:
    """A red callout with the problem in words and an × to close it."""
    return rx.callout.root(
        rx.callout.icon(rx.icon("triangle-alert")),
        rx.callout.text(message, word_break="break-word"),
        rx.icon_button(
            rx.icon("x", size=14),
            on_click=on_dismiss,
            variant="ghost",
            color_scheme="red",
            size="1",
            margin_left="auto",
            aria_label="Dismiss",
        ),
        color_scheme="red",
        role="alert",
        width="100%",
        display="flex",
        align_items="center",
        **props,
    )


def dismiss_button(on_click, label: str = "Dismiss", **props) -> rx.Component:
    """The small gray × that closes a card or a panel."""
    return rx.icon_button(
        rx.icon("x", size=14),
        on_click=on_click,
        variant="ghost",
        color_scheme="gray",
        size="1",
        aria_label=label,
        **props,
    )


def dismissible_error(message: rx.Var, on_dismiss: rx.EventHandler) -> rx.Component:
    """An error callout, shown while `message` is not empty."""
    return rx.cond(message != "", error_callout(message, on_dismiss))


def copy_button(value: rx.Var, what: str) -> rx.Component:
    """Copies `value` to the clipboard and says so."""
    return rx.icon_button(
        rx.icon("copy", size=14),
        on_click=[rx.set_clipboard(value), rx.toast.info(f"{what} copied")],
        variant="soft",
        size="1",
        aria_label=f"Copy {what.lower()}",
    )


def button_row(*buttons: rx.Component, **props) -> rx.Component:
    """A dialog's or a form's buttons, at the right: on a narrow window whole buttons move
    to the next line, a button's text never wraps."""
    return rx.hstack(*buttons, spacing="3", justify="end", wrap="wrap", width="100%", **props)


def dialog_fit(max_width: str = "32rem") -> dict[str, str]:
    """The size props of every dialog's content: `max_width` wide at most, and never
    wider or taller than the window leaves room for; a long dialog scrolls inside itself,
    so its buttons are always reachable."""
    return {
        "width": "calc(100vw - 2rem)",
        "max_width": f"min({max_width}, calc(100vw - 2rem))",
        "max_height": "calc(100dvh - 2rem)",
        "overflow_y": "auto",
    }


def confirm_dialog(
    title: rx.Component | rx.Var | str,
    description: rx.Component | rx.Var | str,
    action: str,
    on_confirm,
    *,
    trigger: rx.Component | None = None,
    closes: bool = True,
    **root_props,
) -> rx.Component:
    """The one "are you sure" dialog for what cannot be undone: Cancel, or the red
    `action`. Opened by `trigger`, or by the state through `root_props` (open,
    on_open_change); `closes=False` leaves closing it to the state (e.g. after a check)."""
    confirm = rx.button(action, color_scheme="red", on_click=on_confirm)
    return rx.alert_dialog.root(
        *([rx.alert_dialog.trigger(trigger)] if trigger is not None else []),
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(description),
            button_row(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(confirm) if closes else confirm,
                margin_top="1em",
            ),
            **dialog_fit("28rem"),
        ),
        **root_props,
    )
