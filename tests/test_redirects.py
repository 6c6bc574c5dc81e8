"""One open-redirect check for the sign-in API and the sign-in page."""

from __future__ import annotations

import pytest

from product_importer.access.redirects import local_path


@pytest.mark.parametrize("target", ["/", "/products?name=oak&page=2", "/webhooks#log", "/a/b/c"])
def test_a_path_of_this_site_is_kept(target: str) -> None:
    assert local_path(target) == target


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "products",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        " /x",
    ],
)
def test_anything_that_could_leave_the_site_goes_home(target: str | None) -> None:
    assert local_path(target) == "/"


def test_the_api_and_the_page_use_the_same_check() -> None:
    from product_importer.api import session
    from product_importer.ui import session_state

    assert session.local_path is local_path and session_state.local_path is local_path


def test_signing_in_with_a_backslash_target_lands_home(anonymous, credentials) -> None:
    from tests.conftest import ADMIN

    response = anonymous.post(
        "/api/session",
        data={"username": ADMIN, "password": credentials.admin_password, "next": "/\\evil.example"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"
