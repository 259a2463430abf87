"""HTTP routes for users: parse, call the repository, answer."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, delete, get, patch, post, put
from litestar.datastructures import ResponseHeader
from litestar.params import HeaderParameter, JSONBody, Parameter

from blogsvc.conditional import Versioned, if_match_versions, none_match
from blogsvc.deps import DB, CursorCodec, Hasher, PageParams
from blogsvc.pagination import MAX_ID, Page
from blogsvc.schemas import problem_responses
from blogsvc.users import auth
from blogsvc.users import repository as users
from blogsvc.users.schemas import Credentials, User, UserCreate, UserPatch, UserReplace

UserId = Annotated[int, Parameter(ge=1, le=MAX_ID, description="The user's id.")]
IfMatch = Annotated[
    str | None, HeaderParameter(name="If-Match", max_length=1024, description="Write only if the ETag still matches.")
]
IfNoneMatch = Annotated[
    str | None, HeaderParameter(name="If-None-Match", max_length=1024, description="304 if the ETag still matches.")
]
EmailFilter = Annotated[
    str | None, Parameter(min_length=1, max_length=254, description="Only the live user with this email.")
]

ETAG = ResponseHeader(name="ETag", description="The user's current version.", documentation_only=True)
LOCATION = ResponseHeader(name="Location", description="The new user's URL.", documentation_only=True)


def _tagged(found: Versioned[User], status_code: int = 200, **headers: str) -> Response[User]:
    return Response(found.item, status_code=status_code, headers={"ETag": found.etag, **headers})


class UserController(Controller):
    path = "/users"
    tags = ["users"]

    @post("/", status_code=201, response_headers=[LOCATION, ETAG], responses=problem_responses(400, 409))
    async def create_user(self, data: JSONBody[UserCreate], db: DB, hasher: Hasher) -> Response[User]:
        """Register a user; the password is stored as an argon2id hash."""
        fields = {"first_name": data.first_name, "last_name": data.last_name, "city": data.city}
        created = await users.create(
            db,
            email=data.email,
            password_hash=await hasher.hash(data.password),
            fields={**fields, "is_active": data.is_active},
        )
        return _tagged(created, 201, Location=f"/users/{created.item.id}")

    @get("/", responses=problem_responses(400))
    async def list_users(self, db: DB, cursors: CursorCodec, page: PageParams, email: EmailFilter = None) -> Page[User]:
        """Live users by id, a page at a time."""
        listing = "users" if email is None else f"users?email={email.lower()}"
        return await users.page(db, cursors.window(page, listing), email)

    @get(
        "/{user_id:int}",
        response_headers=[ETAG],
        responses={304: problem_responses(304)[304], **problem_responses(400, 404)},
    )
    async def get_user(self, db: DB, user_id: UserId, if_none_match: IfNoneMatch = None) -> Response[Any]:
        """One live user, with its ETag."""
        found = await users.get(db, user_id)
        if none_match(if_none_match, found.version):
            return Response(None, status_code=304, headers={"ETag": found.etag})
        return _tagged(found)

    @put("/{user_id:int}", response_headers=[ETAG], responses=problem_responses(400, 404, 409, 412))
    async def replace_user(
        self, db: DB, user_id: UserId, data: JSONBody[UserReplace], if_match: IfMatch = None
    ) -> Response[User]:
        """Replace every field but the password."""
        return _tagged(await users.update(db, user_id, msgspec.structs.asdict(data), if_match_versions(if_match)))

    @patch("/{user_id:int}", response_headers=[ETAG], responses=problem_responses(400, 404, 409, 412))
    async def patch_user(
        self, db: DB, hasher: Hasher, user_id: UserId, data: JSONBody[UserPatch], if_match: IfMatch = None
    ) -> Response[User]:
        """Change the fields given; a new password is re-hashed."""
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
        if "password" in changes:
            changes["password_hash"] = await hasher.hash(changes.pop("password"))
        versions = if_match_versions(if_match)
        if not changes:
            return _tagged(await users.check_precondition(db, user_id, versions))
        return _tagged(await users.update(db, user_id, changes, versions))

    @delete("/{user_id:int}", status_code=204, responses=problem_responses(400, 404, 412))
    async def delete_user(self, db: DB, user_id: UserId, if_match: IfMatch = None) -> None:
        """Soft-delete a user (and, with it, the user's live articles)."""
        await users.delete(db, user_id, if_match_versions(if_match))

    @post(
        "/{user_id:int}/restore", status_code=200, response_headers=[ETAG], responses=problem_responses(400, 404, 409)
    )
    async def restore_user(self, db: DB, user_id: UserId) -> Response[User]:
        """Bring back a deleted user (and the articles deleted with it)."""
        return _tagged(await users.restore(db, user_id))


@post("/auth/verify", status_code=200, tags=["auth"], responses=problem_responses(400, 401))
async def verify_password(data: JSONBody[Credentials], db: DB, hasher: Hasher) -> User:
    """Check an email and password; 401 alike for a wrong password, an unknown or deleted email, or an inactive user."""
    return await auth.verify(db, hasher, data.email, data.password)
