"""``domain/status_dicts.py``, generated from the status models: TypedDicts of the status as on the wire.

The operator builds and reads the status as plain dicts (validating every status through
pydantic on the hot path would cost CPU per schedule per sweep); these TypedDicts, generated from
the same models as the CRD's status schema, let ``mypy --strict`` check every key and value
type at no run-time cost, so a field renamed in :mod:`sundial.domain.status_models` breaks the
type check, not the cluster. Keys are camelCase as on the wire; every TypedDict is
``total=False`` (a partial status and a merge patch are the same shape); optional fields admit
``None`` (a merge patch's delete); times are RFC 3339 strings; lists stay lists.

``python -m sundial.domain.status_codegen`` prints the module (``make crds`` writes it); a unit
test fails when the committed file differs.
"""

from __future__ import annotations

import json
import re
import textwrap
import types
from collections.abc import Iterator
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import AwareDatetime

from sundial.domain.models import Model
from sundial.domain.status_models import ScheduleStatus

TARGET = "operator/sundial/domain/status_dicts.py"
_SCALARS = {str: "str", int: "int", float: "float", bool: "bool"}


def dict_name(model: type[Model]) -> str:
    return f"{model.__name__}Dict"


def wire_type(annotation: Any) -> str:
    """The Python type of a field's JSON value, as source text."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (Union, types.UnionType):
        return " | ".join(wire_type(a) for a in args)
    if origin is Literal:
        return "Literal[" + ", ".join(json.dumps(a) for a in args) + "]"
    if origin in (tuple, list):
        return f"list[{wire_type(args[0])}]"
    if origin is dict:
        return f"dict[{wire_type(args[0])}, {wire_type(args[1])}]"
    if annotation is type(None):
        return "None"
    if annotation is Any:
        return "Any"
    if annotation is AwareDatetime:
        return "str"  # RFC 3339
    if isinstance(annotation, type) and issubclass(annotation, Model):
        return dict_name(annotation)
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    raise TypeError(f"no wire type for {annotation!r}: teach status_codegen.wire_type")


def _nested(annotation: Any) -> Iterator[type[Model]]:
    if isinstance(annotation, type) and issubclass(annotation, Model):
        yield annotation
    for arg in get_args(annotation):
        yield from _nested(arg)


def models(root: type[Model] = ScheduleStatus) -> list[type[Model]]:
    """``root`` and every model it nests, each after the models it uses."""
    ordered: list[type[Model]] = []

    def visit(model: type[Model]) -> None:
        if model in ordered:
            return
        for info in model.model_fields.values():
            for inner in _nested(info.annotation):
                visit(inner)
        ordered.append(model)

    visit(root)
    return ordered


def _typed_dict(model: type[Model]) -> Iterator[str]:
    yield ""
    yield ""
    yield f"class {dict_name(model)}(TypedDict, total=False):"
    yield f'    """{(model.__doc__ or model.__name__).strip().splitlines()[0]}"""'
    yield ""
    for name, info in model.model_fields.items():
        for line in textwrap.wrap(" ".join((info.description or "").split()), 112):
            yield f"    # {line}"
        yield f"    {info.alias or name}: {wire_type(info.annotation)}"


def render() -> str:
    """The whole module."""
    body = [line for model in models() for line in _typed_dict(model)]
    used = [name for name in ("Any", "Literal") if any(re.search(rf"\b{name}\b", line) for line in body)]
    lines = [
        '"""The Schedule status as TypedDicts, as on the wire. Generated from sundial.domain.status_models',
        "by `python -m sundial.domain.status_codegen` (make crds); do not edit: edit the models.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        f"from typing import {', '.join([*used, 'TypedDict'])}",
        *body,
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
