"""The value types of the expression language and which operations accept them."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Type:
    """A static type. ``enum`` carries its allowed values; ``list`` its item type."""

    kind: str  # int | decimal | bool | date | string | enum | list | null
    values: tuple = ()
    item: "Type | None" = None
    ordered: bool = False
    name: str = ""  # the fact or enum name, for messages

    def __str__(self) -> str:
        if self.kind == "enum":
            return f"enum {self.name}" if self.name else "enum"
        if self.kind == "list":
            return f"list of {self.item}"
        return self.kind

    @property
    def numeric(self) -> bool:
        return self.kind in ("int", "decimal")


INT = Type("int")
DECIMAL = Type("decimal")
BOOL = Type("bool")
DATE = Type("date")
STRING = Type("string")
NULL = Type("null")


def enum(values, name: str = "", ordered: bool = False) -> Type:
    return Type("enum", tuple(values), name=name, ordered=ordered)


def list_of(item: Type) -> Type:
    return Type("list", item=item)


def comparable(a: Type, b: Type) -> bool:
    """Whether ``a == b`` makes sense (null compares with anything: the answer is false)."""
    if NULL in (a, b):
        return True
    if a.numeric and b.numeric:
        return True
    if a.kind == "enum" and b.kind in ("enum", "string"):
        return b.kind == "string" or set(a.values) == set(b.values)
    if b.kind == "enum" and a.kind == "string":
        return True
    return a.kind == b.kind


def unify_numeric(a: Type, b: Type) -> Type:
    return INT if a.kind == b.kind == "int" else DECIMAL
