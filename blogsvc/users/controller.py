"""HTTP routes for users: parse, call the repository, answer."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Response, delete, get, patch, post, put
from litestar.datastructures import ResponseHeader
from litestar.params import JSONBody, Parameter

from blogsvc.http.conditional import ETAG_HEADER, NOT_MODIFIED, IfMatch, if_match_versions, tagged
from blogsvc.http.controllers import AppController, Count, IdsFilter, Listed, UpdatedSince
from blogsvc.http.problems import problem_responses
from blogsvc.pagination import MAX_ID, id_batch
from blogsvc.security.idempotency import IDEMPOTENT
from blogsvc.users import repository as users
from blogsvc.users import verify
from blogsvc.users.schemas import (
    Credentials,
    User,
    UserCreate,
    UserFilters,
    UserPage,
    UserPatch,
    UserReplace,
    normalized_email,
    password_in_context,
)
from blogsvc.validation import Check

# Path ids are matched as text so that only decimal digits pass (see http/validation.py): "1_0", "5e0" are 400s.
UserId = Annotated[int, Parameter(ge=1, le=MAX_ID, description="The user's id.")]
# Checked as a new user's email is (http/validation.py runs the Check): a spelling no user can have, with
# spaces around it for one, is a 400, not a match the column's collation would make of it.
EmailFilter = Annotated[
    str | None,
    Parameter(
        min_length=3,
        max_length=254,
        schema_extra={"format": "email"},
        description="Only the live user with this email.",
    ),
    Check(normalized_email),
]
LOCATION = ResponseHeader(name="Location", description="The new user's URL.", documentation_only=True)


class UserController(AppController):
    path = "/users"
    tags = ["users"]

    @post(
        "/",
        operation_id="createUser",
        middleware=[IDEMPOTENT],
        status_code=201,
        response_headers=[LOCATION, ETAG_HEADER],
        responses=problem_responses(400, 409, body=True),
    )
    async def create_user(self, data: JSONBody[UserCreate]) -> Response[User]:
        """Register a user. The password is stored as an argon2id hash."""
        created = await users.create(self.state.db, data, await self.state.hasher.hash(data.password))
        return tagged(created, 201, Location=f"/users/{created.item.id}")

    @get("/", operation_id="listUsers", responses=problem_responses(400))
    async def list_users(
        self,
        listing: Listed,
        email: EmailFilter = None,
        ids: IdsFilter = None,
        updated_since: UpdatedSince = None,
        count: Count = False,
    ) -> UserPage:
        """List live users. By id, a page at a time."""
        email = None if email is None else normalized_email(email)
        filters = UserFilters(email=email, ids=id_batch(ids), updated_since=updated_since)
        return await users.page(self.state.db, listing.window(filters.listing()), filters, count)

    @get(
        "/{user_id:str}",
        operation_id="getUser",
        response_headers=[ETAG_HEADER],
        responses={304: NOT_MODIFIED, **problem_responses(400, 404)},
    )
    async def get_user(self, user_id: UserId) -> Response[User]:
        """Get a live user. With its ETag."""
        return tagged(await users.get(self.state.db, user_id))

    @put(
        "/{user_id:str}",
        operation_id="replaceUser",
        response_headers=[ETAG_HEADER],
        responses=problem_responses(400, 404, 409, 412, body=True),
    )
    async def replace_user(
        self, user_id: UserId, data: JSONBody[UserReplace], if_match: IfMatch = None
    ) -> Response[User]:
        """Replace a user. Every field but the password."""
        return tagged(
            await users.update(self.state.db, user_id, msgspec.structs.asdict(data), if_match_versions(if_match))
        )

    @patch(
        "/{user_id:str}",
        operation_id="updateUser",
        response_headers=[ETAG_HEADER],
        responses=problem_responses(400, 404, 409, 412, body=True),
    )
    async def patch_user(self, user_id: UserId, data: JSONBody[UserPatch], if_match: IfMatch = None) -> Response[User]:
        """Update some of a user's fields. Fields left out stay as they are; a new password is re-hashed."""
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
        if "password" in changes:
            if "email" not in changes:  # the Struct held it against a new email; this is the stored one
                password_in_context(changes["password"], (await users.get(self.state.db, user_id)).item.email)
            changes["password_hash"] = await self.state.hasher.hash(changes.pop("password"))
        return tagged(await users.update(self.state.db, user_id, changes, if_match_versions(if_match)))

    @delete("/{user_id:str}", operation_id="deleteUser", status_code=204, responses=problem_responses(400, 404, 412))
    async def delete_user(self, user_id: UserId, if_match: IfMatch = None) -> None:
        """Soft-delete a user. The user's live articles go with it."""
        await users.delete(self.state.db, user_id, if_match_versions(if_match))

    @post(
        "/{user_id:str}/restore",
        operation_id="restoreUser",
        middleware=[IDEMPOTENT],
        status_code=200,
        response_headers=[ETAG_HEADER],
        responses=problem_responses(400, 404, 409),
    )
    async def restore_user(self, user_id: UserId) -> Response[User]:
        """Restore a deleted user. The articles deleted with it come back too."""
        return tagged(await users.restore(self.state.db, user_id))


class AuthController(AppController):
    path = "/auth"
    tags = ["auth"]

    @post(
        "/verify",
        operation_id="verifyPassword",
        status_code=200,
        middleware=[IDEMPOTENT],
        responses=problem_responses(400, 401, 429, body=True),
    )
    async def verify_password(self, data: JSONBody[Credentials]) -> User:
        """Verify a user's password. 401 alike for a wrong password, an unknown or deleted email, or an inactive
        user; 429 after too many attempts for the email (see Retry-After)."""
        return await verify.verify(self.state.db, self.state.hasher, data.email, data.password)
