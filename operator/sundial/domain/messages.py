"""Messages that echo what a user wrote: printable, short, and bounded in size.

A refusal names the field, the value and the limit, so it repeats the user's text. That
text may hold characters a terminal or ``kubectl describe`` shows as nothing or as
something else (NBSP, vertical tab, zero-width and bidi controls), or be huge (a
400-digit number, a 200 KB string). Everything Sundial writes to a status or an Event
goes through :func:`bounded`, and every echoed value through :func:`shown`.
"""

from __future__ import annotations

from typing import Any, Final

#: Most characters of a message in a status field, a condition or an Event (etcd objects are
#: limited to about 1.5 MB; a status with many such messages stays far below).
MESSAGE_LIMIT: Final = 1024
#: Most characters of one echoed value inside a message.
VALUE_LIMIT: Final = 80


def escaped(text: str) -> str:
    """``text`` with every non-printing character written as a Python escape (``\\u00a0``, ``\\x0b``).

    Printable text, including any language's letters, is kept as it is; a plain space stays.
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in text)


def _escape(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def shortened(text: str, limit: int) -> str:
    """``text`` cut to about ``limit`` characters, saying how long it was."""
    if len(text) <= limit:
        return text
    note = f"... ({len(text)} characters)"
    return text[: max(limit - len(note), 1)] + note


def shown(value: Any, limit: int = VALUE_LIMIT) -> str:
    """A user's value for a message: strings quoted, everything escaped and shortened."""
    if isinstance(value, str):
        return '"' + shortened(escaped(value), limit - 2) + '"'
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 3 * limit:
        digits = int(value.bit_length() * 0.30103) + 1  # str() itself refuses beyond 4300 digits
        return f"a number of about {digits} digits"
    if isinstance(value, float) and value != value:
        return "NaN"
    return shortened(escaped(repr(value) if isinstance(value, bytes | dict | list) else str(value)), limit)


def bounded(message: str, limit: int = MESSAGE_LIMIT, *, one_line: bool = False) -> str:
    """A message fit for a status or an Event: printable and at most about ``limit`` characters.

    ``one_line`` first turns line breaks and tabs into spaces (a worker's multi-line error
    reads better so in ``kubectl get`` and ``sundial runs`` than with ``\\x0a`` escapes).
    """
    if one_line:
        message = " ".join(message.split())
    return shortened(escaped(message), limit)
