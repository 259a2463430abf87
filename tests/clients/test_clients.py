"""/openapi.json as calling teams use it: the same document with and without tokens, nothing for Redocly's
recommended rules to find, a TypeScript client (openapi-typescript) that compiles with tsc --strict, and a
Python client (openapi-python-client), generated as is, that runs the whole API and its error paths and
parses every answer into its model (an undeclared status raises)."""

from __future__ import annotations

import importlib
import json
import secrets
import shutil
import subprocess
import sys
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.e2e_server import Server

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import ModuleType

    from blogsvc.config import Settings

HERE = Path(__file__).resolve().parent
BIN = HERE / "node_modules" / ".bin"
WRITE_TOKEN = "write-" + secrets.token_urlsafe(32)
READ_TOKEN = "read-" + secrets.token_urlsafe(32)


def run(*command: str | Path, cwd: Path = HERE) -> str:
    """Run a tool; what it printed on stdout, or a failure that shows all it said."""
    done = subprocess.run([str(part) for part in command], cwd=cwd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{' '.join(map(str, command))} exited {done.returncode}:\n{done.stdout}{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def node_tools() -> Path:
    """Redocly, openapi-typescript and tsc at the versions package-lock.json pins (npm ci when they are not)."""
    installed = HERE / "node_modules" / ".package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < (HERE / "package-lock.json").stat().st_mtime:
        npm = shutil.which("npm")
        assert npm, "npm is needed (the build needs it too)"
        run(npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
    return BIN


@pytest.fixture(scope="module")
def servers(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server]]:
    """The same service twice on the test database: open, and with tokens."""
    logs = tmp_path_factory.mktemp("clients")
    running = [
        Server(settings, logs / "open.log"),
        Server(settings, logs / "tokens.log", BLOGSVC_API_TOKENS=f"write:{WRITE_TOKEN} read:{READ_TOKEN}"),
    ]
    try:
        for server in running:
            server.wait_until_healthy()
        yield running[0], running[1]
    finally:
        for server in running:
            server.stop()


@pytest.fixture(scope="module")
def document(servers: tuple[Server, Server], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("document") / "openapi.json"
    path.write_bytes(httpx.get(f"{servers[1].base_url}/openapi.json").content)
    return path


def test_the_document_is_the_same_with_and_without_tokens(servers: tuple[Server, Server], document: Path) -> None:
    assert httpx.get(f"{servers[0].base_url}/openapi.json").content == document.read_bytes()


def test_redocly_recommended_rules_find_only_the_contracts_own_ambiguity(node_tools: Path, document: Path) -> None:
    """Nothing but one warning the contract's paths make inevitable: /articles/by-slug/restore would match
    both /articles/by-slug/{slug} and /articles/{article_id}/restore (an id is digits only, which the rule
    does not read). Routing is not ambiguous: a path segment that is not digits is never an article id."""
    report = json.loads(
        run(node_tools / "redocly", "lint", document, "--config", HERE / "redocly.yaml", "--format=json")
    )
    assert report["totals"] == {"errors": 0, "warnings": 1, "ignored": 0}, report["problems"]
    (problem,) = report["problems"]
    assert problem["ruleId"] == "no-ambiguous-paths", problem
    assert "/articles/by-slug/{slug}" in problem["message"] and "/articles/{article_id}/restore" in problem["message"]


def test_a_typescript_client_compiles_strictly(node_tools: Path, document: Path, tmp_path: Path) -> None:
    run(node_tools / "openapi-typescript", document, "--output", tmp_path / "api.d.ts")
    shutil.copy(HERE / "usage.ts", tmp_path / "usage.ts")
    run(node_tools / "tsc", "--strict", "--noEmit", "--target", "es2022", "--module", "esnext",
        "--moduleResolution", "bundler", "usage.ts", cwd=tmp_path)  # fmt: skip


@pytest.fixture(scope="module")
def client_package(document: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The Python client openapi-python-client generates, unedited, imported as blogsvc_client."""
    where = tmp_path_factory.mktemp("python-client")
    generator = Path(sys.executable).parent / "openapi-python-client"
    run(
        generator,
        "generate",
        "--path",
        document,
        "--meta",
        "none",
        "--output-path",
        where / "blogsvc_client",
        cwd=where,
    )
    sys.path.insert(0, str(where))
    try:
        yield importlib.import_module("blogsvc_client")
    finally:
        sys.path.remove(str(where))
        for name in [name for name in sys.modules if name.startswith("blogsvc_client")]:
            del sys.modules[name]


class Api:
    """The generated modules by name: call("users.get_user", ...), model("UserCreate")(...)."""

    def __init__(self, package: ModuleType, server: Server, token: str | None) -> None:
        kind = package.AuthenticatedClient if token else package.Client
        options: dict[str, Any] = {"token": token} if token else {}
        self.client = kind(base_url=server.base_url, raise_on_unexpected_status=True, **options)

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.get_httpx_client().close()

    def call(self, operation: str, *args: Any, **kwargs: Any) -> Any:
        module = importlib.import_module(f"blogsvc_client.api.{operation}")
        return module.sync_detailed(*args, client=self.client, **kwargs)

    def model(self, name: str) -> Any:
        return getattr(importlib.import_module("blogsvc_client.models"), name)


def problem(api: Api, response: Any, status: int) -> Any:
    assert response.status_code == status, response.content
    assert isinstance(response.parsed, api.model("Problem")), response.parsed
    assert response.parsed.status == status
    return response.parsed


def test_the_whole_api_through_a_generated_python_client(
    client_package: ModuleType, servers: tuple[Server, Server]
) -> None:
    with Api(client_package, servers[1], WRITE_TOKEN) as api:
        run_the_whole_api(api)


def run_the_whole_api(api: Api) -> None:
    user_create, user = api.model("UserCreate"), api.model("User")
    email = f"ada.{secrets.token_hex(4)}@example.com"

    created = api.call("users.create_user", body=user_create(email=email, password="correct horse battery"))
    assert created.status_code == HTTPStatus.CREATED
    assert isinstance(created.parsed, user) and created.parsed.email == email and created.parsed.first_name == ""
    user_id = created.parsed.id
    assert created.headers["location"] == f"/users/{user_id}"

    read = api.call("users.get_user", user_id)
    assert isinstance(read.parsed, user) and read.parsed.id == user_id
    etag = read.headers["etag"]
    assert api.call("users.get_user", user_id, if_none_match=etag).status_code == HTTPStatus.NOT_MODIFIED

    patched = api.call("users.update_user", user_id, body=api.model("UserPatch")(city="Paris"), if_match=etag)
    assert isinstance(patched.parsed, user) and patched.parsed.city == "Paris" and patched.parsed.updated_at
    stale = api.call("users.update_user", user_id, body=api.model("UserPatch")(city="Rome"), if_match=etag)
    problem(api, stale, 412)
    replace = api.model("UserReplace")(email=email, first_name="Ada", last_name="L", city="", is_active=True)
    replaced = api.call("users.replace_user", user_id, body=replace)
    assert replaced.parsed.first_name == "Ada" and replaced.parsed.city == ""

    verified = api.call(
        "auth.verify_password", body=api.model("Credentials")(email=email, password="correct horse battery")
    )
    assert isinstance(verified.parsed, user) and verified.parsed.id == user_id
    wrong = api.call("auth.verify_password", body=api.model("Credentials")(email=email, password="not the password"))
    problem(api, wrong, 401)

    article_ids = []
    for title in ("First", "Second", "Third"):
        made = api.call("articles.create_article", user_id, body=api.model("ArticleCreate")(title=title))
        assert made.status_code == HTTPStatus.CREATED and made.parsed.title == title and made.parsed.body is None
        article_ids.append(made.parsed.id)
    seen, cursor = [], None
    while True:
        options = {"cursor": cursor} if cursor else {}
        page = api.call("articles.list_user_articles", user_id, limit=2, **options).parsed
        assert isinstance(page, api.model("ArticlePage"))
        seen += [article.id for article in page.data]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == article_ids

    first = article_ids[0]
    changed = api.call("articles.update_article", first, body=api.model("ArticlePatch")(body="Text"))
    assert changed.parsed.body == "Text" and changed.parsed.title == "First"
    assert api.call("articles.delete_article", first).status_code == HTTPStatus.NO_CONTENT
    problem(api, api.call("articles.get_article", first), 404)
    assert api.call("articles.restore_article", first).parsed.id == first

    assert api.call("users.delete_user", user_id).status_code == HTTPStatus.NO_CONTENT
    problem(api, api.call("users.get_user", user_id), 404)
    problem(api, api.call("articles.get_article", article_ids[1]), 404)  # deleted with its author
    assert api.call("users.restore_user", user_id).parsed.id == user_id
    assert api.call("articles.get_article", article_ids[1]).parsed.title == "Second"

    users = api.call("users.list_users", email=email).parsed
    assert [found.id for found in users.data] == [user_id]
    again = api.call("users.create_user", body=user_create(email=email, password="correct horse battery"))
    problem(api, again, 409)
    short = api.call("users.create_user", body=user_create(email=f"x{email}", password="short"))
    bad = problem(api, short, 400)
    assert [(error.field, error.in_) for error in bad.errors] == [("password", "body")]


def test_tokens_through_a_generated_python_client(client_package: ModuleType, servers: tuple[Server, Server]) -> None:
    with Api(client_package, servers[1], None) as anonymous:
        problem(anonymous, anonymous.call("articles.list_articles"), 401)
        assert anonymous.call("service.get_health").parsed.status == "ok"
    with Api(client_package, servers[1], READ_TOKEN) as reader:
        assert isinstance(reader.call("articles.list_articles", limit=1).parsed, reader.model("ArticlePage"))
        body = reader.model("UserCreate")(email="read.only@example.com", password="correct horse battery")
        problem(reader, reader.call("users.create_user", body=body), 403)
        assert reader.call("service.get_service_info").parsed.service == "blogsvc"
