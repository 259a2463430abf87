"""Request bodies made into Structs with every bad field reported at once (msgspec stops at the first).

A field's type says its shape and bounds (msgspec Meta) and may carry Check markers, rules no schema can
state (an email address email-validator accepts, a password the policy allows); a Check returns the value,
normalised, or raises ValueError with a message for a person. Rules across fields go in the Struct's
__post_init__, which raises FieldErrors: they are checked once every field is right on its own."""

from __future__ import annotations

import functools
import re
import types
from typing import TYPE_CHECKING, Annotated, Any, Literal, NamedTuple, TypeVar, Union, get_args, get_origin

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


def from_json(body: bytes, target: type[S]) -> S:
    """A JSON body as a `target`; FieldErrors naming every bad field, or why the body is no JSON object.

    The usual case, a body that is right, costs one msgspec decode and the Check rules; only a body that
    is wrong is taken apart field by field to find all that is."""
    try:
        value = msgspec.json.decode(body, type=target, strict=True)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):  # a ValidationError is a DecodeError
        return validate(_decoded(body), target)
    errors = []
    for field in _fields(target):  # types, bounds and __post_init__ have passed: the Check rules are left
        current = getattr(value, field.attribute)
        if field.checks and current is not None and current is not msgspec.UNSET:
            try:
                for check in field.checks:
                    current = check.rule(current)
            except ValueError as exc:
                errors.append((field.name, humane(str(exc))))
            setattr(value, field.attribute, current)
    if errors:
        raise FieldErrors(errors)
    return value


def validate(data: Any, target: type[S]) -> S:
    """`data` (decoded JSON) as a `target`; FieldErrors naming every bad field if it is not one."""
    if not isinstance(data, dict):
        raise FieldErrors([("", f"The body must be a JSON object, not {_kind(data)}.")])
    fields = _fields(target)
    errors: list[tuple[str, str]] = []
    if target.__struct_config__.forbid_unknown_fields:
        known = {field.name for field in fields}
        errors += [(name, "Not a field of this body.") for name in data if name not in known]
    values: dict[str, Any] = {}
    for field in fields:
        if field.name not in data:
            if field.required:
                errors.append((field.name, "Required."))
            continue
        try:
            value = msgspec.convert(data[field.name], field.kind, strict=True)
            for check in field.checks if value is not None else ():
                value = check.rule(value)
        except (msgspec.ValidationError, ValueError) as exc:
            errors.append((field.name, humane(str(exc), field.kind)))
            continue
        values[field.name] = value
    if errors:
        raise FieldErrors(errors)
    try:
        return msgspec.convert(values, target, strict=True)
    except msgspec.ValidationError as exc:  # a rule across fields, from __post_init__
        if isinstance(exc.__cause__, FieldErrors):
            raise exc.__cause__ from None
        raise FieldErrors([("", humane(str(exc)))]) from None


class _Field(NamedTuple):
    name: str  # as sent
    attribute: str
    kind: Any
    required: bool
    checks: tuple[Check, ...]


@functools.cache
def _fields(target: type[msgspec.Struct]) -> tuple[_Field, ...]:
    """A Struct's fields, once: msgspec.structs.fields() evaluates the annotations again on every call."""
    return tuple(
        _Field(field.encode_name, field.name, field.type, field.required, tuple(checks(field.type)))
        for field in msgspec.structs.fields(target)
    )


def _decoded(body: bytes) -> Any:
    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise FieldErrors([("", f"The body is not valid JSON: {exc}.")]) from None
    except UnicodeDecodeError:  # msgspec lets these through for invalid UTF-8 and absurd nesting
        raise FieldErrors([("", "The body is not valid UTF-8.")]) from None
    except RecursionError:
        raise FieldErrors([("", "The body nests too deeply.")]) from None


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
    (re.compile(r"Expected `str` matching regex '(.*)'"), lambda m: _pattern_message(m[1])),
    (re.compile(r"Expected `([\w |]+)`, got `(\w+)`"), lambda m: f"Must be {_kinds(m[1])}, not {_kinds(m[2])}."),
    (re.compile(r"Invalid value for field `\w+`: (.*)"), lambda m: m[1][:1].upper() + m[1][1:].rstrip(".") + "."),
]
_AT_PATH = re.compile(r" - at `\$[^`]*`$")
# Regular expressions said in words (by `described`): what a value breaking one is told.
_PATTERNS: dict[str, str] = {}


def described(pattern: str, message: str) -> str:
    """`pattern`, whose breach the 400 states as `message` (a sentence) instead of the expression."""
    _PATTERNS[pattern] = message
    return pattern


def _pattern_message(shown: str) -> str:
    pattern = shown.replace("\\\\", "\\")  # msgspec shows each backslash doubled
    return _PATTERNS.get(pattern, f"Must match {pattern}.")


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
