"""A mypy plugin: ``.get("key")`` on a TypedDict that declares no such key is an error.

mypy accepts ``status.get("nextRunTme")`` silently (the value is typed ``object``), so a status
field renamed in ``sundial.domain.status_models`` would slip through every ``.get`` read of the
generated TypedDicts (``sundial.domain.status_dicts``). With this plugin such a read fails
``mypy --strict`` as ``status["nextRunTme"]`` does. Registered in pyproject.toml's ``[tool.mypy]``.
"""

from __future__ import annotations

from collections.abc import Callable

from mypy.errorcodes import TYPEDDICT_UNKNOWN_KEY
from mypy.plugin import MethodContext, Plugin
from mypy.plugins.default import typed_dict_get_callback
from mypy.typeops import try_getting_str_literals
from mypy.types import Type, TypedDictType

_GET = "typing.Mapping.get"  # the name mypy gives TypedDict.get


def checked_get(ctx: MethodContext) -> Type:
    """Report literal keys the TypedDict does not declare, then type the call as mypy does."""
    if isinstance(ctx.type, TypedDictType) and ctx.args and len(ctx.args[0]) == 1:
        for key in try_getting_str_literals(ctx.args[0][0], ctx.arg_types[0][0]) or ():
            if key not in ctx.type.items:
                name = ctx.type.fallback.type.name
                ctx.api.fail(f'TypedDict "{name}" has no key "{key}"', ctx.context, code=TYPEDDICT_UNKNOWN_KEY)
    return typed_dict_get_callback(ctx)


class TypedDictKeys(Plugin):
    def get_method_hook(self, fullname: str) -> Callable[[MethodContext], Type] | None:
        return checked_get if fullname == _GET else None


def plugin(version: str) -> type[Plugin]:
    return TypedDictKeys
