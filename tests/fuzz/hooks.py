"""schemathesis hooks for tests/fuzz/run.py (loaded through SCHEMATHESIS_HOOKS): positive test cases that
break a rule no JSON Schema can state, and which the document states in words, are no positive cases;
and a deleted resource that was restored since is no use after free."""

from __future__ import annotations

from typing import TYPE_CHECKING

import schemathesis
from schemathesis.openapi.checks import UseAfterFree
from schemathesis.specs.openapi.checks import use_after_free
from schemathesis.transport.prepare import prepare_path

from blogsvc.security import password_policy

if TYPE_CHECKING:
    from schemathesis import CheckContext, Response
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
    # sort=relevance ranks matches of q: without q it is a 400, as the parameter's description says.
    if case.query and case.query.get("sort") == "relevance" and "q" not in case.query:
        return False
    # A password the policy refuses for what no schema states (common or breached, repetitive or
    # sequential, the service's name, the email before the @) is a 400, as the document says in words.
    body = case.body if isinstance(case.body, dict) else {}
    password, email = body.get("password"), body.get("email")
    if not isinstance(password, str):
        return True
    try:
        password_policy.check(password)
        if isinstance(email, str):
            password_policy.context(password, email)
    except ValueError:
        return False
    return True


# A long poll on GET /events that finds nothing waits as long as `wait` says (up to 30 s, past the fuzzer's
# 10 s timeout): a valid wait is shortened, in every phase. One out of range stays, to be refused.
LONGEST_FUZZ_WAIT = 0.2


@schemathesis.hook
def map_case(context: HookContext, case: Case) -> Case:
    _shorten_wait(case)
    return case


@schemathesis.hook
def before_add_examples(context: HookContext, examples: list[Case]) -> None:
    """The examples phase's cases (the OpenAPI document's examples) skip map_case."""
    for case in examples:
        _shorten_wait(case)


def _shorten_wait(case: Case) -> None:
    wait = case.query.get("wait") if isinstance(case.query, dict) else None
    try:
        seconds = float(wait)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return
    if 0 <= seconds <= 30:
        case.query["wait"] = min(seconds, LONGEST_FUZZ_WAIT)  # type: ignore[index]


@schemathesis.check
def use_after_free_unless_restored(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """schemathesis's use_after_free (run.py excludes the original), except that a successful
    POST .../restore between the DELETE and the read brought the resource back: schemathesis counts
    only a request to the resource's own path, or a prefix of it, as re-creating it."""
    try:
        return use_after_free(ctx, response, case)
    except UseAfterFree as failure:
        if failure.deleted_case_id is None or not _restored_since(ctx, failure.deleted_case_id, case.id, failure.free):
            raise
        return None


def _restored_since(ctx: CheckContext, delete_case_id: str, current_case_id: str, free: str) -> bool:
    """True if, between that DELETE and the current case, a restore of the resource succeeded and no
    later DELETE of it did."""
    restore = f"POST {free.removeprefix('DELETE ')}/restore"
    after_delete = restored = False
    for earlier in ctx.internals.find_all_cases():
        if earlier.id == current_case_id:
            break
        after_delete = after_delete or earlier.id == delete_case_id
        answer = ctx.internals.find_response(case_id=earlier.id)
        if not after_delete or answer is None or not 200 <= answer.status_code < 300:
            continue
        made = f"{earlier.operation.method.upper()} {prepare_path(earlier.path, earlier.path_parameters)}"
        if made == restore:
            restored = True
        elif made == free:
            restored = False
    return restored
