"""One log line per decision the operator's loops take, readable as text and as JSON.

With ``sundial run --log-format json`` kopf installs a JSON formatter on the root logger
that turns a record's ``extra`` fields into JSON keys; in text mode the same fields are
appended as ``key=value``. So a line reads ``sweep: drift repaired kind=missing
schedule=team-a/news`` in a terminal and ``{"message": ..., "decision": "drift-repaired",
"kind": "missing", ...}`` in a log pipeline, from one call.
"""

from __future__ import annotations

import logging
from typing import Any

# LogRecord attributes that ``extra`` may not overwrite
_RESERVED = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def _field(key: str) -> str:
    return f"{key}_" if key in _RESERVED else key


def decision(logger: logging.Logger | logging.LoggerAdapter[logging.Logger], what: str, text: str,
             level: int = logging.INFO, **fields: Any) -> None:
    """Log ``text`` as the decision ``what`` with structured ``fields`` (None values left out)."""
    present = {key: value for key, value in fields.items() if value is not None}
    suffix = " ".join(f"{key}={value}" for key, value in present.items())
    extra = {"decision": what, **{_field(key): value for key, value in present.items()}}
    logger.log(level, f"{text} {suffix}" if suffix else text, extra=extra)
