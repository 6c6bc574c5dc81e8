"""Credentials in a webhook URL (`https://user:secret@host/path`): stored and used as
they are for delivery, never shown again. Every answer shows the masked form
(`https://user:***@host/path`), and a URL sent back with the mask in place of the
password (an edit that left the URL alone, or changed only its path or query) keeps the
stored one.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

MASK = "***"


def _with_userinfo(url: str, userinfo: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{host}" if userinfo else host))


def _userinfo(url: str) -> str:
    netloc = urlsplit(url).netloc
    return netloc.rpartition("@")[0] if "@" in netloc else ""


def masked_url(url: str) -> str:
    """The URL with its password (or a user name alone, which may be a token) masked."""
    userinfo = _userinfo(url)
    if not userinfo:
        return url
    user, has_password, _ = userinfo.partition(":")
    return _with_userinfo(url, f"{user}:{MASK}" if has_password else MASK)


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.rpartition("@")[2].lower()


def restore_credentials(new_url: str, stored_url: str) -> str:
    """`new_url`, with the stored credentials put back where it carries the mask, if it
    goes to the same scheme, host and port (credentials never follow a URL elsewhere)."""
    new, stored = _userinfo(new_url), _userinfo(stored_url)
    if not stored or not new or _origin(new_url) != _origin(stored_url):
        return new_url
    user, _, password = new.partition(":")
    stored_user, has_password, _ = stored.partition(":")
    if has_password and password == MASK and user == stored_user or new == MASK:
        return _with_userinfo(new_url, stored)
    return new_url
