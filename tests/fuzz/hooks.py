"""schemathesis hooks for tests/fuzz/run.py (loaded through SCHEMATHESIS_HOOKS): positive test cases that
break a rule no JSON Schema can state, and which the document states in words, are no positive cases."""

from __future__ import annotations

from typing import TYPE_CHECKING

import schemathesis

from blogsvc.security.password_policy import is_common

if TYPE_CHECKING:
    from schemathesis.generation.case import Case
    from schemathesis.hooks import HookContext


@schemathesis.hook
def filter_case(context: HookContext, case: Case) -> bool:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return True
    # A cursor is valid only as the service issued it (it is signed): one made up is a forgery, rightly a 400.
    if case.query and "cursor" in case.query:
        return False
    # A password on the common-or-breached lists is refused (400) whatever its length.
    password = case.body.get("password") if isinstance(case.body, dict) else None
    return not (isinstance(password, str) and is_common(password))
