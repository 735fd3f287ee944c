"""``docs/reference.md``, generated from the code it documents: ``make docs`` (a unit test checks it is in sync).

Every ``Schedule`` spec and status field comes from the pydantic models (their docstrings are
also the CRD's descriptions, so ``kubectl explain`` says the same), the settings from
``settings.SETTINGS``, the condition types and reasons from ``domain.conditions``, and the
commands from the CLI's own parser.
"""

from __future__ import annotations

import argparse
import json
import types
from collections.abc import Iterator
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from annotated_types import Ge, Le, MaxLen, MinLen
from pydantic import AwareDatetime, BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from sundial import cli
from sundial.domain import conditions
from sundial.domain.models import Model, ScheduleSpec
from sundial.domain.policy_models import SchedulePolicySpec, SchedulePolicyStatus
from sundial.domain.status_models import ScheduleStatus
from sundial.settings import SETTINGS

#: What each condition type and reason means: from ``domain.conditions``, the one place they are named.
MEANINGS = conditions.MEANINGS
CONDITION_TYPES = tuple(conditions.TYPES)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _type(annotation: Any) -> tuple[str, bool]:
    """A reader's name for a field's type, and whether it is optional (may be null/absent)."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return _type(inner[0])[0] if len(inner) == 1 else " or ".join(_type(a)[0] for a in inner), True
    if origin is Annotated:
        return _type(args[0])
    if origin is Literal:
        return "one of " + ", ".join(f"`{a}`" for a in args), False
    if origin in (tuple, list):
        return f"list of {_type(args[0])[0]}", False
    if origin is dict or annotation is dict:
        return "object", False
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "object", False
    if annotation is AwareDatetime:
        return "time (RFC 3339)", False
    names = {str: "string", int: "integer", float: "number", bool: "boolean"}
    return names.get(annotation, "any JSON value" if annotation is Any else getattr(annotation, "__name__", "?")), False


def _limits(info: FieldInfo) -> str:
    parts = []
    unit = "items" if _type(info.annotation)[0].startswith("list") else "chars"
    for item in info.metadata:
        if isinstance(item, MinLen) and item.min_length:
            parts.append("not empty" if item.min_length == 1 else f"at least {item.min_length} {unit}")
        elif isinstance(item, MaxLen):
            parts.append(f"at most {item.max_length} {unit}")
        elif isinstance(item, Ge):
            parts.append(f"≥ {item.ge}")
        elif isinstance(item, Le):
            parts.append(f"≤ {item.le}")
    return ", ".join(parts)


def _default(info: FieldInfo) -> str:
    if info.default is PydanticUndefined and info.default_factory is None:
        return "required"
    value = info.get_default(call_default_factory=True)
    if isinstance(value, Model):
        value = value.to_body()
    if value is None or value in ({}, (), []):
        return "—"
    if isinstance(value, dict):
        return "see below"
    return f"`{value}`" if isinstance(value, str) and value else f"`{json.dumps(value)}`"


def _nested(annotation: Any) -> type[Model] | None:
    for candidate in (annotation, *get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, Model):
            return candidate
        inner = get_args(candidate)
        if get_origin(candidate) in (tuple, list) and inner and isinstance(inner[0], type) \
                and issubclass(inner[0], Model):
            return inner[0]
    return None


def field_rows(model: type[Model], prefix: str) -> Iterator[str]:
    """One table row per field, nested objects walked depth-first (``a.b``, lists as ``a[]``)."""
    for name, info in model.model_fields.items():
        path = f"{prefix}.{info.alias or name}"
        kind, optional = _type(info.annotation)
        default = _default(info)
        if optional and default == "required":
            default = "—"
        nested = _nested(info.annotation)
        yield (f"| `{path}` | {kind} | {default} | {_limits(info)} | {_cell(info.description or '')} |")
        if nested is not None:
            many = get_origin(info.annotation) in (tuple, list)
            yield from field_rows(nested, f"{path}[]" if many else path)


def _table(header: tuple[str, ...], rows: Iterator[str] | list[str]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header), *rows, ""]


def _commands() -> Iterator[str]:
    parser = cli.build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {choice.dest: choice.help for choice in subparsers._choices_actions}
    for name, sub in subparsers.choices.items():
        yield f"### `sundial {name}`"
        yield ""
        yield _cell(helps.get(name) or sub.description or "")
        yield ""
        rows = []
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction) or action.help == argparse.SUPPRESS:
                continue
            flag = ", ".join(action.option_strings) or action.dest.upper()
            text = sub._get_formatter()._expand_help(action) if action.help else ""
            if action.choices:
                text += f" (one of {', '.join(map(str, action.choices))})"
            rows.append(f"| `{flag}` | {_cell(text)} |")
        yield from _table(("argument", "meaning"), rows) if rows else [""]


def render() -> str:
    """The whole page."""
    lines = ["# Sundial reference", "",
             "Generated from the code by `make docs` (`python -m sundial.reference`); do not edit by hand.", "",
             "## Schedule spec (`sundial.dev/v1alpha1`, kind `Schedule`)", "",
             "Rules that need computation (cron, time zone, minimum interval, quotas, the budget cap) are",
             "checked by the operator and reported as `Stalled=True` with a reason; see the README.", ""]
    header = ("field", "type", "default", "limits", "description")
    lines += _table(header, field_rows(ScheduleSpec, "spec"))
    lines += ["## Schedule status", "", "Written only by the operator.", ""]
    lines += _table(header, field_rows(ScheduleStatus, "status"))
    lines += ["## SchedulePolicy spec (`sundial.dev/v1alpha1`, kind `SchedulePolicy`, cluster-scoped)", "",
              "Limits per tenant namespace; the strictest of several policies wins, the operator settings apply "
              "where none sets a limit (docs/policies.md).", ""]
    lines += _table(header, field_rows(SchedulePolicySpec, "spec"))
    lines += ["## SchedulePolicy status", "", "Written only by the operator, when the counts change.", ""]
    lines += _table(header, field_rows(SchedulePolicyStatus, "status"))
    lines += ["## Conditions", "", "Condition types:", ""]
    lines += _table(("type", "meaning"), [f"| `{t}` | {MEANINGS[t]} |" for t in CONDITION_TYPES])
    reasons = sorted(conditions.REASONS)
    lines += ["Reasons set by the operator (refusals add the rule's own reason, e.g. `IntervalTooShort`):", ""]
    lines += _table(("reason", "meaning"), [f"| `{r}` | {MEANINGS[r]} |" for r in reasons])
    lines += ["## Operator settings (environment variables)", "",
              "Read once at start-up; a bad value stops the operator with the variable, the value and the limit.", ""]
    lines += _table(("variable", "default", "meaning"),
                    [f"| `{s.env}` | {'`' + str(s.default) + '`' if s.default is not None else '—'} | {_cell(s.help)} |"
                     for s in SETTINGS])
    lines += ["## Commands", "", "`sundial` is also installed as the kubectl plugin `kubectl-sundial`.", ""]
    lines += list(_commands())
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    print(render(), end="")
