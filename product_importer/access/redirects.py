"""Where a sign-in may send the browser afterwards: only to a path of this site."""

from __future__ import annotations

from urllib.parse import urlsplit


def local_path(target: str | None) -> str:
    """`target` if it is a path on this site, else "/" (no open redirect).

    Refused: anything with a scheme or a host (`https://x`, `//x`), backslashes (browsers
    read `/\\x` as `//x`), control characters and whitespace browsers strip before
    resolving (`/\\t/x`)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target or any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target
