"""Request bodies made into Structs with every bad field reported at once (msgspec stops at the first).

A field's type says its shape and bounds (msgspec Meta) and may carry Check markers, rules no schema can
state (an email address email-validator accepts, a password the policy allows); a Check returns the value,
normalised, or raises ValueError with a message for a person. Rules across fields go in the Struct's
__post_init__, which raises FieldErrors: they are checked once every field is right on its own."""

from __future__ import annotations

import re
import types
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

import msgspec

if TYPE_CHECKING:
    from collections.abc import Callable

S = TypeVar("S", bound=msgspec.Struct)


class Check:
    """An Annotated marker: `Annotated[str, Meta(...), Check(normalized_email)]`. msgspec ignores it."""

    def __init__(self, rule: Callable[[Any], Any]) -> None:
        self.rule = rule


class FieldErrors(ValueError):
    """Every bad field of one value: (field name as sent, what is wrong)."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors))
        self.errors = errors


def validate(data: Any, target: type[S]) -> S:
    """`data` (decoded JSON) as a `target`; FieldErrors naming every bad field if it is not one."""
    if not isinstance(data, dict):
        raise FieldErrors([("", f"The body must be a JSON object, not {_kind(data)}.")])
    fields = msgspec.structs.fields(target)
    errors: list[tuple[str, str]] = []
    if target.__struct_config__.forbid_unknown_fields:
        known = {field.encode_name for field in fields}
        errors += [(name, "Not a field of this body.") for name in data if name not in known]
    values: dict[str, Any] = {}
    for field in fields:
        if field.encode_name not in data:
            if field.required:
                errors.append((field.encode_name, "Required."))
            continue
        try:
            value = msgspec.convert(data[field.encode_name], field.type, strict=True)
            for check in checks(field.type) if value is not None else ():
                value = check.rule(value)
        except (msgspec.ValidationError, ValueError) as exc:
            errors.append((field.encode_name, humane(str(exc), field.type)))
            continue
        values[field.encode_name] = value
    if errors:
        raise FieldErrors(errors)
    try:
        return msgspec.convert(values, target, strict=True)
    except msgspec.ValidationError as exc:  # a rule across fields, from __post_init__
        if isinstance(exc.__cause__, FieldErrors):
            raise exc.__cause__ from None
        raise FieldErrors([("", humane(str(exc)))]) from None


def checks(kind: Any) -> list[Check]:
    """The Check markers of a field's type, inside a union (`Email | UnsetType`) too."""
    if get_origin(kind) is Annotated:
        return [meta for meta in kind.__metadata__ if isinstance(meta, Check)]
    if get_origin(kind) in (Union, types.UnionType):
        return [check for member in get_args(kind) for check in checks(member)]
    return []


_KINDS = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "null": "null",
    "array": "an array",
    "object": "an object",
}
_MESSAGES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"Expected `str` of length >= (\d+)"), lambda m: f"Must have at least {m[1]} characters."),
    (re.compile(r"Expected `str` of length <= (\d+)"), lambda m: f"Must have at most {m[1]} characters."),
    (re.compile(r"Expected `array` of length >= (\d+)"), lambda m: f"Must have at least {m[1]} items."),
    (re.compile(r"Expected `array` of length <= (\d+)"), lambda m: f"Must have at most {m[1]} items."),
    (re.compile(r"Expected `(?:int|float)` >= (-?[\d.]+)"), lambda m: f"Must be at least {m[1]}."),
    (re.compile(r"Expected `(?:int|float)` <= (-?[\d.]+)"), lambda m: f"Must be at most {m[1]}."),
    (re.compile(r"Expected `str` matching regex '(.*)'"), lambda m: f"Must match {m[1]}."),
    (re.compile(r"Expected `([\w |]+)`, got `(\w+)`"), lambda m: f"Must be {_kinds(m[1])}, not {_kinds(m[2])}."),
    (re.compile(r"Invalid value for field `\w+`: (.*)"), lambda m: m[1][:1].upper() + m[1][1:].rstrip(".") + "."),
]
_AT_PATH = re.compile(r" - at `\$[^`]*`$")


def humane(message: str, kind: Any = None) -> str:
    """msgspec's message ("Expected `str` of length <= 200 - at `$.title`") as a sentence for a person;
    `kind`, the type checked, names the values a Literal allows."""
    message = _AT_PATH.sub("", message)
    if message.startswith("Invalid enum value") and (allowed := choices(kind)):
        return f"Must be one of {', '.join(map(str, allowed))}."
    for pattern, say in _MESSAGES:
        if match := pattern.fullmatch(message):
            return say(match)
    return message


def choices(kind: Any) -> tuple[Any, ...]:
    """The values a Literal type allows (inside Annotated or a union too); () for any other type."""
    if get_origin(kind) is Literal:
        return get_args(kind)
    if get_origin(kind) in (Annotated, Union, types.UnionType):
        return tuple(value for member in get_args(kind) for value in choices(member))
    return ()


def _kinds(names: str) -> str:
    return " or ".join(_KINDS.get(name.strip(), name.strip()) for name in names.split("|"))


def _kind(value: Any) -> str:
    kind = {str: "str", int: "int", float: "float", bool: "bool", list: "array", dict: "object"}
    return _KINDS.get(kind.get(type(value), "null"), "null")
