"""A plain HTML form that the browser itself submits.

Reflex's own form always cancels the browser's submit and hands the fields to an event
handler. Signing in and out must instead reach `POST /api/session...` as a normal page
request, so that the response can set (or clear) the HTTP-only session cookie.
"""

from __future__ import annotations

from reflex.vars.base import Var
from reflex_components_core.el.elements.base import BaseHTML


class NativeForm(BaseHTML):
    tag = "form"

    action: Var[str]
    method: Var[str]


native_form = NativeForm.create
