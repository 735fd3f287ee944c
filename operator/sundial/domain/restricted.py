"""Restricted operations: which ones a task asks for, and which the worker allows.

A task *asks for* an operation when its
``task_context["operations"]`` lists it (the reliable, documented signal), or when the
query mentions it. Both are read after ``normalise_text`` (NFKC, so full-width letters are
letters; invisible format characters dropped; camelCase split; case folded; every run of
separators one space), and a mention is a verb of the operation followed, within three
words, by one of its objects ("send an email", ``sendEmail``, "SEND-E-MAIL", "delete the
old records"). A restricted operation that is asked for is refused unless the *worker's*
policy allows it (``SUNDIAL_WORKER_ALLOWED_OPERATIONS``; later, tenant policy): the task's
own ``task_context`` never grants anything, since whoever writes the spec writes it.
Matching text is a first line only (synonyms and other languages pass it); an agent
with tools must check ``AgentRequest.allows`` at every tool call.

Pure: the workflow sandbox imports it (the worker's policy comes in through a local
activity, recorded in the run's history, so a replay sees the same answer).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any, Final

RESTRICTED_OPERATIONS: Final = ("delete_data", "send_email", "make_purchase", "modify_permissions")
#: ``task_context`` key: the operations a task will perform (list of names).
OPERATIONS_KEY: Final = "operations"
#: The worker's local activity that answers which restricted operations it allows.
POLICY_ACTIVITY_NAME: Final = "sundial.allowed_operations"
#: Where the allowlist is set (named in refusals).
ALLOWED_OPERATIONS_SETTING: Final = "SUNDIAL_WORKER_ALLOWED_OPERATIONS"


def _names(context: Mapping[str, Any], key: str) -> tuple[str, ...]:
    """A list of operation names from ``context[key]``; a lone string counts as one."""
    value = context.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Sequence) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"task_context.{key} must be a list of operation names")
    return tuple(value)


def normalise_text(text: str, invisible: str = "") -> str:
    """Words as a reader sees them: NFKC, camelCase split, folded, one space apart.

    Format characters (zero-width space, soft hyphen, bidi controls) become ``invisible``:
    dropped by default ("se\u00adnd"), a separator when matching both ways ("send\u200bemail").
    """
    text = unicodedata.normalize("NFKC", text)
    text = "".join(invisible if unicodedata.category(ch) == "Cf" else ch for ch in text)
    text = re.sub(r"(?<=[^\W_])(?=[A-Z][a-z])|(?<=[a-z0-9])(?=[A-Z])", " ", text)
    words = re.findall(r"[^\W_]+", text.casefold())
    return re.sub(r"\be mails?\b", "email", " ".join(words))


#: (verbs, objects) of each restricted operation, as normalised words; a verb then an object
#: within three words is a mention. Deliberately broad: a false refusal is visible, a miss is not.
_PHRASES: Final = {
    "delete_data": ("delete|deletes|deleting|deleted|remove|removes|removing|erase|erasing|wipe|wiping|purge"
                    "|purging|drop|dropping|destroy|destroying|truncate|truncating",
                    "data|database|databases|record|records|file|files|table|tables|row|rows|account|accounts"
                    "|backup|backups|bucket|buckets"),
    "send_email": ("send|sends|sending|sent|forward|forwarding|compose|mail|email|emailing",
                   "email|emails|mail|mails|message|messages|newsletter|newsletters"),
    "make_purchase": ("make|makes|making|place|placing|buy|buys|buying|purchase|purchasing|pay|paying|checkout",
                      "purchase|purchases|order|orders|payment|payments|credits|subscription|subscriptions"
                      "|license|licenses|ticket|tickets"),
    "modify_permissions": ("modify|modifies|modifying|change|changing|grant|granting|revoke|revoking|update"
                           "|updating|edit|editing|set|elevate|escalate|add|remove",
                           "permission|permissions|access|role|roles|privilege|privileges|acl|acls|admin|rights"),
}
_MENTIONS: Final = {name: re.compile(rf"\b(?:{verbs})\b(?: \S+){{0,3}}? (?:{objects})\b"
                                     rf"|\b{name.replace('_', '')}\b")  # written as one word: sendemail
                    for name, (verbs, objects) in _PHRASES.items()}
_BY_WORDS: Final = {normalise_text(name): name for name in RESTRICTED_OPERATIONS}


def operation_name(raw: str) -> str | None:
    """The restricted operation a name means (``sendEmail``, ``SEND-EMAIL`` -> ``send_email``), or None."""
    return _BY_WORDS.get(normalise_text(raw))


def parse_allowed_operations(raw: str) -> tuple[str, ...]:
    """A comma-separated allowlist (a setting); ValueError names an unknown entry."""
    allowed: list[str] = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        name = operation_name(item)
        if name is None:
            raise ValueError(f"{item!r} is not a restricted operation (one of {', '.join(RESTRICTED_OPERATIONS)})")
        allowed.append(name)
    return tuple(name for name in RESTRICTED_OPERATIONS if name in allowed)


def requested_operations(query: str, context: Mapping[str, Any]) -> tuple[str, ...]:
    """Restricted operations the task asks for, in ``RESTRICTED_OPERATIONS`` order."""
    names = _names(context, OPERATIONS_KEY)
    listed = {operation_name(item) for item in names}
    texts = [normalise_text(text, invisible) for text in (query, *names) for invisible in ("", " ")]
    return tuple(name for name in RESTRICTED_OPERATIONS
                 if name in listed or any(_MENTIONS[name].search(text) for text in texts))


def refused_operations(query: str, context: Mapping[str, Any], allowed: Sequence[str] = ()) -> tuple[str, ...]:
    """Restricted operations asked for and not in the worker's ``allowed``; empty means the task may run.

    Raises ``ValueError`` when ``task_context.operations`` is malformed.
    """
    permitted = {operation_name(item) for item in allowed}
    return tuple(name for name in requested_operations(query, context) if name not in permitted)


def refusal_message(refused: Sequence[str]) -> str:
    names = ", ".join(refused)
    return (f"restricted operation(s) {names} refused: a background task may perform them only when the "
            f"worker allows them ({ALLOWED_OPERATIONS_SETTING}); task_context cannot grant them")
