"""Reject reasons for malformed records and field checks shared by connectors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vsdstats.connectors.base import Connector
from vsdstats.connectors.guarded import T

CONVERT_ERRORS: tuple[type[Exception], ...] = (KeyError, TypeError, ValueError)


def check_format(connector: Connector, format: str | None) -> None:
    """ValueError ``<name>: unknown format ...`` unless ``format`` is None or one of
    ``connector.formats``."""
    if format is not None and format not in connector.formats:
        raise ValueError(f"{connector.name}: unknown format {format!r}; known: {connector.formats}")


def not_an_object(what: str, value: Any) -> str:
    """The reject reason for a JSON value that should have been an object."""
    return f"{what} is a JSON {type(value).__name__}, expected an object"


def some_keys(value: dict[Any, Any]) -> str:
    """The first six keys of an unrecognized object, sorted, for a reject reason."""
    return ", ".join(sorted(map(str, value))[:6])


def require_str(value: Any, field: str) -> str:
    """``value`` if it is a string, else TypeError ``<field> must be a string, got <type>``."""
    if not isinstance(value, str):
        raise TypeError(f"{field} must be a string, got {type(value).__name__}")
    return value


def count(value: Any, *, signed: bool = False) -> int | None:
    """An engagement count (likes, score, replies) as an int, or None when ``value`` is
    not one: ints and digit strings (``"12"``) are counts; booleans, fractions,
    abbreviations (``"1.2K"``, a rounded display value) and negative numbers (unless
    ``signed``: a Reddit score can be negative) are not.  Never raises: a count the
    platform garbles is missing, not a reason to reject the post."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        s = value.strip().replace(",", "")
        body = s[1:] if s[:1] in "+-" else s
        if not (body.isascii() and body.isdigit()):
            return None
        value = int(s)
    if not isinstance(value, int) or (value < 0 and not signed) or abs(value) >= 2**63:
        return None
    return value


def text_or_none(value: Any) -> str | None:
    """``value`` stripped if it is a non-empty string, else None (an optional text field
    such as a community name)."""
    return value.strip() or None if isinstance(value, str) else None


def convert_or_reason(
    fn: Callable[..., T],
    *args: Any,
    what: str = "record",
    errors: tuple[type[Exception], ...] = CONVERT_ERRORS,
) -> T | str:
    """``fn(*args)``, or the reject reason ``bad <what>: <detail>`` when it raises one of
    ``errors`` (a KeyError reads ``missing field 'key'``); other errors propagate."""
    try:
        return fn(*args)
    except errors as exc:
        detail = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        return f"bad {what}: {detail}"
