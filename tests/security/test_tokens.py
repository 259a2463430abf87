"""Service tokens (API.md, Service authentication): configuration, 401/403, the open routes, the start-up
warning and production's refusal to run open, no token in any log line, and the OpenAPI declaration."""

from __future__ import annotations

import hashlib
import logging
import secrets
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from blogsvc.app import create_app
from blogsvc.config import ApiToken, ConfigError, from_env, parse_tokens
from blogsvc.security.tokens import TokenTable
from tests.e2e_server import ROOT
from tests.helpers import assert_problem, new_user_body
from tests.security.conftest import READ, READ_TOKEN, WRITE, WRITE_TOKEN

if TYPE_CHECKING:
    from litestar import Litestar

    from blogsvc.config import Settings

    Client = AsyncTestClient[Litestar]

TOKEN_A = "a" * 32
TOKEN_B = secrets.token_urlsafe(32)


# ---- configuration ----


def test_tokens_are_kept_as_digests_with_their_scope() -> None:
    hashed = hashlib.sha256(TOKEN_B.encode()).hexdigest()
    tokens = parse_tokens(f" write:{TOKEN_A},\n read:sha256:{hashed.upper()} ")
    assert tokens == (
        ApiToken("write", hashlib.sha256(TOKEN_A.encode()).digest()),
        ApiToken("read", bytes.fromhex(hashed)),
    )
    settings = from_env({"BLOGSVC_API_TOKENS": f"write:{TOKEN_A},read:sha256:{hashed}"})
    assert settings.api_tokens == tokens
    assert TOKEN_A not in repr(settings) and TOKEN_A.encode() not in msgspec.json.encode(settings)


@pytest.mark.parametrize(
    "entry",
    [
        "admin:" + TOKEN_B,  # no such scope
        TOKEN_B,  # no scope at all
        "write:" + TOKEN_B[:31],  # too short to be a token
        "write:" + TOKEN_B[:30] + "!" + TOKEN_B[31:],  # a character a Bearer credential cannot carry
        "read:sha256:" + "ab" * 31,  # not 64 hex digits
        f"write:{TOKEN_B},read:{TOKEN_B}",  # the same token twice
    ],
)
def test_bad_tokens_stop_start_up_without_quoting_them(entry: str) -> None:
    with pytest.raises(ConfigError, match="^BLOGSVC_API_TOKENS: ") as raised:
        from_env({"BLOGSVC_API_TOKENS": entry})
    assert TOKEN_B[:20] not in str(raised.value)


def test_production_refuses_to_run_open() -> None:
    with pytest.raises(ConfigError, match="BLOGSVC_ENV is production but BLOGSVC_API_TOKENS is empty"):
        from_env({"BLOGSVC_ENV": "production"})
    assert from_env({"BLOGSVC_ENV": "production", "BLOGSVC_API_TOKENS": f"read:{TOKEN_A}"}).env == "production"
    assert from_env({}).env == "development"
    with pytest.raises(ConfigError, match="BLOGSVC_ENV must be one of development, production"):
        from_env({"BLOGSVC_ENV": "prod"})


def test_serve_in_production_without_tokens_exits_with_one_line() -> None:
    env = {"PATH": "/usr/bin:/bin", "BLOGSVC_ENV": "production"}
    done = subprocess.run(
        [sys.executable, "-m", "blogsvc", "serve"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "blogsvc: BLOGSVC_ENV is production but BLOGSVC_API_TOKENS is empty: refusing to run open"
    ]


def test_lookup_finds_exactly_the_configured_tokens() -> None:
    table = TokenTable(parse_tokens(f"write:{TOKEN_A} read:{TOKEN_B}"))
    assert table.find(TOKEN_A.encode()) == ApiToken("write", hashlib.sha256(TOKEN_A.encode()).digest())
    found = table.find(TOKEN_B.encode())
    assert found is not None and found.scope == "read"
    for stranger in (TOKEN_A[:-1], TOKEN_A + "a", TOKEN_B.upper(), "", "Bearer " + TOKEN_A):
        assert table.find(stranger.encode()) is None
    assert not TokenTable(())


# ---- the API with tokens ----


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": f"Basic {WRITE_TOKEN}"},
        {"Authorization": WRITE_TOKEN},
    ],
    ids=["none", "empty", "no-token", "basic", "no-scheme"],
)
async def test_missing_token_is_401_with_challenge(secure_client: Client, headers: dict[str, str]) -> None:
    response = await secure_client.get("/users", headers=headers)
    body = assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in body["detail"]


@pytest.mark.parametrize("token", [WRITE_TOKEN[:-1], WRITE_TOKEN + "x", secrets.token_urlsafe(32)])
async def test_unknown_token_is_401(secure_client: Client, token: str) -> None:
    response = await secure_client.post("/users", json=new_user_body(), headers={"Authorization": f"Bearer {token}"})
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_scheme_is_case_insensitive(secure_client: Client) -> None:
    response = await secure_client.get("/users", headers={"Authorization": f"bearer {READ_TOKEN}"})
    assert response.status_code == 200, response.text


async def test_write_token_does_everything(secure_client: Client) -> None:
    created = await secure_client.post("/users", json=new_user_body(), headers=WRITE)
    assert created.status_code == 201, created.text
    user_id = created.json()["id"]
    assert (await secure_client.get(f"/users/{user_id}", headers=WRITE)).status_code == 200
    assert (await secure_client.patch(f"/users/{user_id}", json={"city": "Leeds"}, headers=WRITE)).status_code == 200
    assert (await secure_client.delete(f"/users/{user_id}", headers=WRITE)).status_code == 204


async def test_read_token_reads_but_may_not_write(secure_client: Client, db_conn: Any) -> None:
    user = (await secure_client.post("/users", json=new_user_body(), headers=WRITE)).json()
    path = f"/users/{user['id']}"
    assert (await secure_client.get(path, headers=READ)).json() == user
    assert (await secure_client.get("/articles", headers=READ)).status_code == 200
    attempts = {
        "POST": ("/users", {"json": new_user_body()}),
        "PUT": (path, {"json": {k: user[k] for k in ("email", "first_name", "last_name", "city", "is_active")}}),
        "PATCH": (path, {"json": {"city": "Nowhere"}}),
        "DELETE": (path, {}),
    }
    for method, (url, extra) in attempts.items():
        response = await secure_client.request(method, url, headers=READ, **extra)
        body = assert_problem(response, 403)
        assert method in body["detail"]
        assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
    # Nothing changed.
    assert (await secure_client.get(path, headers=READ)).json() == user
    with db_conn.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM users WHERE email = %s", (attempts["POST"][1]["json"]["email"],))
        assert cursor.fetchone() == (0,)


async def test_read_token_may_not_verify_passwords(secure_client: Client) -> None:
    """POST is a write method, /auth/verify included (it changes the lockout count and may re-hash)."""
    response = await secure_client.post("/auth/verify", json={"email": "a@example.com", "password": "x"}, headers=READ)
    assert_problem(response, 403)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/healthz",
        "/healthz/",
        "/readyz",
        "/metrics",
        "/docs",
        "/redoc",
        "/openapi.json",
        "/docs/assets/swagger-ui-dist@5.35.0/swagger-ui.css",
    ],
)
async def test_service_routes_stay_open(secure_client: Client, path: str) -> None:
    response = await secure_client.get(path)
    assert response.status_code == 200, (path, response.text[:200])


async def test_unknown_routes_and_methods_are_not_hidden_behind_401(secure_client: Client) -> None:
    assert_problem(await secure_client.get("/nowhere"), 404)
    wrong_method = await secure_client.put("/users")
    assert_problem(wrong_method, 405)
    assert set(wrong_method.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


async def test_no_token_in_any_log_line(
    secure_client: Client, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    stranger = secrets.token_urlsafe(32)
    with caplog.at_level(logging.DEBUG):
        await secure_client.get("/users", headers=WRITE)
        await secure_client.get("/users", headers=READ)
        await secure_client.get("/users", headers={"Authorization": f"Bearer {stranger}"})
        await secure_client.delete("/users/1", headers=READ)
    assert caplog.records, "nothing was logged: the test would prove nothing"
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records) + capfd.readouterr().err
    for secret in (WRITE_TOKEN, READ_TOKEN, stranger):
        assert secret not in logged


# ---- running open ----


def stderr_lines(capfd: pytest.CaptureFixture[str], wanted: str, timeout: float = 2.0) -> list[str]:
    """Lines of the process's stderr holding `wanted` (the app's logging writes them from a thread)."""
    seen = ""
    deadline = time.monotonic() + timeout
    while True:
        seen += capfd.readouterr().err
        if wanted in seen or time.monotonic() > deadline:
            return [line for line in seen.splitlines() if wanted in line]
        time.sleep(0.02)


async def test_running_open_is_a_warning_at_start_up(settings: Settings, capfd: pytest.CaptureFixture[str]) -> None:
    capfd.readouterr()
    async with AsyncTestClient(create_app(settings)) as client:
        assert (await client.get("/users")).status_code == 200  # open: no token needed
    (line,) = stderr_lines(capfd, "BLOGSVC_API_TOKENS is not set")
    assert "warning" in line.lower()


async def test_no_warning_with_tokens(secure_settings: Settings, capfd: pytest.CaptureFixture[str]) -> None:
    capfd.readouterr()
    async with AsyncTestClient(create_app(secure_settings)) as client:
        assert (await client.get("/healthz")).status_code == 200
    assert stderr_lines(capfd, "BLOGSVC_API_TOKENS", timeout=0.3) == []


# ---- OpenAPI ----


async def test_openapi_declares_the_bearer_scheme(secure_client: Client) -> None:
    document = (await secure_client.get("/openapi.json")).json()
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": document["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    protected = 0
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if path in ("/", "/healthz", "/readyz"):
                assert operation["security"] == [], (method, path)  # open, and saying so
                assert "401" not in operation["responses"], (method, path)
                continue
            protected += 1
            assert operation["security"] == [{"bearerAuth": []}], (method, path)
            assert "401" in operation["responses"], (method, path)
            assert "WWW-Authenticate" in operation["responses"]["401"]["headers"], (method, path)
            assert ("403" in operation["responses"]) == (method in ("post", "put", "patch", "delete")), (method, path)
    assert protected >= 15


async def test_openapi_is_the_same_with_and_without_tokens(client: Client, secure_client: Client) -> None:
    """A client generated from a development server (open) must work with a production one (tokens)."""
    open_document = await client.get("/openapi.json")
    assert open_document.content == (await secure_client.get("/openapi.json")).content
    assert "bearerAuth" in open_document.json()["components"]["securitySchemes"]


def test_docs_page_carries_the_same_document(secure_app: Litestar) -> None:
    """Swagger UI embeds the document: "Authorize" needs the scheme in it."""
    assert secure_app.openapi_schema.to_schema()["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


async def test_docs_page_offers_authorize(secure_client: Client) -> None:
    html = (await secure_client.get("/docs")).text
    assert '"bearerAuth"' in html
