"""Users as requests send them and as responses show them (never the password or its hash)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import email_validator
import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from blogsvc.pagination import Page, bound_listing
from blogsvc.schemas import Id, Timestamp, naive_utc
from blogsvc.security import password_policy
from blogsvc.validation import Check, FieldErrors


def normalized_email(address: str) -> str:
    """The address with its domain normalised; ValueError (a 400 naming `email`) if it is not one."""
    try:
        return email_validator.validate_email(address, check_deliverability=False).normalized
    except email_validator.EmailNotValidError as exc:
        raise ValueError(f"Invalid value for field `email`: {exc}") from None


Email = Annotated[
    str,
    Meta(min_length=3, max_length=254, examples=["ada@example.com"], extra_json_schema={"format": "email"}),
    Check(normalized_email),
]
# BLOGSVC_PASSWORD_MIN_LENGTH may raise the minimum; password_policy.check() applies it, and the other rules.
Password = Annotated[
    str,
    Meta(
        min_length=password_policy.MIN_LENGTH,
        max_length=password_policy.MAX_LENGTH,
        description=password_policy.RULES,
        examples=["correct horse battery staple"],
    ),
    Check(password_policy.check),
]
Name = Annotated[str, Meta(max_length=100)]
FirstName = Annotated[Name, Meta(examples=["Ada"])]
LastName = Annotated[Name, Meta(examples=["Lovelace"])]
City = Annotated[Name, Meta(examples=["London"])]
Active = Annotated[bool, Meta(description="An inactive user cannot verify a password.", examples=[True])]


def password_in_context(password: str, email: str) -> None:
    """FieldErrors naming `password` if it holds the user's email before the @ (the rule across fields)."""
    try:
        password_policy.context(password, email)
    except ValueError as exc:
        raise FieldErrors([("password", str(exc))]) from None


class UserCreate(Struct, kw_only=True, forbid_unknown_fields=True):
    email: Email
    password: Password
    first_name: FirstName = ""
    last_name: LastName = ""
    city: City = ""
    is_active: Active = True

    def __post_init__(self) -> None:
        password_in_context(self.password, self.email)


class UserReplace(Struct, kw_only=True, forbid_unknown_fields=True):
    """PUT: the whole user but the password."""

    email: Email
    first_name: FirstName
    last_name: LastName
    city: City
    is_active: Active


class UserPatch(Struct, kw_only=True, forbid_unknown_fields=True):
    """PATCH: fields left out stay as they are; none may be null."""

    email: Email | UnsetType = UNSET
    first_name: FirstName | UnsetType = UNSET
    last_name: LastName | UnsetType = UNSET
    city: City | UnsetType = UNSET
    is_active: Active | UnsetType = UNSET
    password: Password | UnsetType = UNSET

    def __post_init__(self) -> None:
        # Without a new email, users/controller.py holds the password against the stored one.
        if self.password is not UNSET and self.email is not UNSET:
            password_in_context(self.password, self.email)


class Credentials(Struct, kw_only=True, forbid_unknown_fields=True):
    # Normalised as a user's email is, so that the lookup and the lockout see one spelling of an address
    # (the column's collation ignores trailing spaces: unchecked, each added space had a lockout count of its own).
    email: Email
    password: Annotated[str, Meta(min_length=1, max_length=256, examples=["correct horse battery staple"])]


class User(Struct, kw_only=True):
    id: Id
    email: Annotated[str, Meta(examples=["ada@example.com"])]
    first_name: Annotated[str, Meta(examples=["Ada"])]
    last_name: Annotated[str, Meta(examples=["Lovelace"])]
    city: Annotated[str, Meta(examples=["London"])]
    is_active: Annotated[bool, Meta(examples=[True])]
    created_at: Timestamp
    updated_at: Timestamp | None


class UserPage(Page[User]):
    pass


class UserFilters(Struct, frozen=True, kw_only=True):
    """The filters of GET /users; updated_since as given (any offset)."""

    email: str | None = None
    ids: tuple[int, ...] | None = None
    updated_since: datetime | None = None

    def listing(self) -> str:
        """What a cursor is bound to: the filters in a fixed order (no filter, or only email: as before)."""
        if self.ids is None and self.updated_since is None:
            return "users" if self.email is None else f"users?email={self.email.lower()}"
        return bound_listing("users", {"email": self.email and self.email.lower(), **self.params()})

    def params(self) -> dict[str, Any]:
        return {
            "ids": None if self.ids is None else msgspec.json.encode(self.ids).decode(),
            "updated_since": None if self.updated_since is None else naive_utc(self.updated_since),
        }
