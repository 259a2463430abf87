"""Settings from BLOGSVC_* environment variables: the only module that reads (or, for the workers of
`blogsvc serve`, writes) os.environ, but for the OTEL_* variables, which the OpenTelemetry SDK reads
itself once traces_service_name() has said traces are on. Each setting is a field of Settings whose
bounds and meaning are declared once, in its Meta; `blogsvc settings` lists them."""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import os
import re
import secrets
import tempfile
from contextvars import ContextVar
from typing import TYPE_CHECKING, Annotated, Any, Literal, cast
from urllib.parse import quote, unquote, urlsplit

import msgspec
from msgspec import Meta

if TYPE_CHECKING:
    from collections.abc import Mapping

PREFIX = "BLOGSVC_"
DEFAULT_DATABASE_URL = "mysql://root@127.0.0.1:3306/blogsvc"
_DATABASE_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")
# Without BLOGSVC_CURSOR_SECRET, cursors and idempotency fingerprints are signed with this, made once per
# process; `blogsvc serve` hands it to its workers (share_with_workers), so they all sign alike.
_PROCESS_SECRET = secrets.token_urlsafe(32)


class ConfigError(Exception):
    """A setting has a bad value; the message names the variable."""


class DatabaseURL(msgspec.Struct, frozen=True, kw_only=True):
    user: str
    password: str
    host: str
    port: int
    database: str
    # Every server, in order of preference (see db/servers.py); the first is host:port, the one
    # `blogsvc migrate` uses. Left out, it is just that one.
    hosts: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        if not self.hosts:
            msgspec.structs.force_setattr(self, "hosts", ((self.host, self.port),))
        elif self.hosts[0] != (self.host, self.port):
            raise ValueError("DatabaseURL: hosts must start with host:port")

    @classmethod
    def parse(cls, url: str, variable: str = "BLOGSVC_DATABASE_URL") -> DatabaseURL:
        def bad(why: str) -> ConfigError:
            return ConfigError(f"{variable}: {why} (expected mysql://user:password@host:port[,host:port...]/db)")

        try:
            parts = urlsplit(url)
        except ValueError:
            raise bad("not a URL") from None
        if parts.scheme != "mysql":
            raise bad(f"scheme must be mysql, got {parts.scheme!r}")
        # urllib reads a single host; a cluster's comma-separated servers are read here one by one.
        hosts = []
        for server in parts.netloc.rpartition("@")[2].split(","):
            try:
                address = urlsplit(f"//{server}")
                port = address.port or 3306
            except ValueError:
                raise bad("port must be a number from 1 to 65535") from None
            if not address.hostname:
                raise bad("no host")
            hosts.append((address.hostname, port))
        database = parts.path.lstrip("/")
        if not _DATABASE_NAME.fullmatch(database):
            raise bad("database name must be 1-64 letters, digits or underscores")
        return cls(
            user=unquote(parts.username or "root"),
            password=unquote(parts.password or ""),
            host=hosts[0][0],
            port=hosts[0][1],
            database=database,
            hosts=tuple(hosts),
        )

    def with_database(self, database: str) -> DatabaseURL:
        return msgspec.structs.replace(self, database=database)

    def to_url(self, *, all_hosts: bool = False, mask_password: bool = False) -> str:
        """The URL form yoyo takes (user and password percent-encoded), naming the first server; with
        `all_hosts`, every server, the form BLOGSVC_DATABASE_URL takes."""
        auth = quote(self.user, safe="")
        if self.password:
            auth += ":" + ("***" if mask_password else quote(self.password, safe=""))
        servers = self.hosts if all_hosts else self.hosts[:1]
        netloc = ",".join(f"[{host}]:{port}" if ":" in host else f"{host}:{port}" for host, port in servers)
        return f"mysql://{auth}@{netloc}/{self.database}"


# ---- service tokens: parsed into SHA-256 digests here, so the plaintext never outlives reading it ----

TokenScope = Literal["read", "write"]
MIN_TOKEN_LENGTH = 32
# RFC 6750's b64token, the characters a Bearer credential may have; 32..512 of them.
_TOKEN = re.compile(rf"[A-Za-z0-9\-._~+/]{{{MIN_TOKEN_LENGTH},512}}=*")
_HASHED = re.compile(r"sha256:([0-9a-fA-F]{64})")


class ApiToken(msgspec.Struct, frozen=True):
    """One configured token: its scope and the SHA-256 digest of the token."""

    scope: TokenScope
    sha256: bytes


class TokenError(ValueError):
    """An entry of BLOGSVC_API_TOKENS is malformed; the message never quotes the entry."""


def parse_tokens(text: str) -> tuple[ApiToken, ...]:
    """Entries separated by commas or whitespace, each `read:<token>`, `write:<token>`, or with the
    token given as its digest, `read:sha256:<64 hex digits>`, so the plaintext need not be configured."""
    tokens: list[ApiToken] = []
    for position, entry in enumerate(re.split(r"[,\s]+", text.strip()), start=1):
        if not entry:
            continue
        scope, _, secret = entry.partition(":")
        if scope not in ("read", "write"):
            raise TokenError(f"entry {position} must start with read: or write:")
        if hashed := _HASHED.fullmatch(secret):
            sha256 = bytes.fromhex(hashed.group(1))
        elif secret.startswith("sha256:"):
            raise TokenError(f"entry {position}: sha256: must be followed by 64 hexadecimal digits")
        elif _TOKEN.fullmatch(secret):
            sha256 = hashlib.sha256(secret.encode()).digest()
        else:
            raise TokenError(
                f"entry {position}: a token must be {MIN_TOKEN_LENGTH} to 512 characters "
                "of A-Z a-z 0-9 - . _ ~ + / (e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        if any(hmac.compare_digest(sha256, other.sha256) for other in tokens):
            raise TokenError(f"entry {position} repeats an earlier token")
        tokens.append(ApiToken(scope, sha256))  # type: ignore[arg-type]  # checked above
    return tuple(tokens)


def read_tokens_file(path: str) -> tuple[ApiToken, ...]:
    """The tokens in the file at `path`, in the syntax of BLOGSVC_API_TOKENS; TokenError if it cannot be
    read or parsed (at start, and each time security/token_file.py re-reads it)."""
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError as exc:
        raise TokenError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return parse_tokens(data.decode())
    except UnicodeDecodeError:
        raise TokenError(f"{path} is not UTF-8 text") from None


# ---- traces: OpenTelemetry's own variables (ops/tracing.py) ----


def traces_service_name(env: Mapping[str, str] | None = None) -> str | None:
    """The service name traces go out under (OTEL_SERVICE_NAME, else blogsvc), or None when traces are
    off: no OTLP endpoint set (OTEL_EXPORTER_OTLP_ENDPOINT or _TRACES_ENDPOINT), OTEL_SDK_DISABLED=true
    or OTEL_TRACES_EXPORTER=none. Traces go out over OTLP/HTTP only."""
    env = os.environ if env is None else env

    def setting(*names: str) -> str:
        """The first of these variables that is set, stripped (a signal's own before the general one)."""
        return next((value for name in names if (value := env.get(name, "").strip())), "")

    exporter = setting("OTEL_TRACES_EXPORTER").lower() or "otlp"
    if exporter not in ("otlp", "none"):
        raise ConfigError(f"OTEL_TRACES_EXPORTER: blogsvc sends traces over OTLP only (otlp or none), got {exporter!r}")
    protocol = setting("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
    if protocol not in ("", "http/protobuf"):
        raise ConfigError(f"OTEL_EXPORTER_OTLP_PROTOCOL: blogsvc speaks http/protobuf only, got {protocol!r}")
    endpoint = setting("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
    if not endpoint or exporter == "none" or setting("OTEL_SDK_DISABLED").lower() == "true":
        return None
    return setting("OTEL_SERVICE_NAME") or "blogsvc"


# ---- the settings ----


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Each field is read from BLOGSVC_<NAME>; an empty or unset variable means the default. Bounds and
    meanings live in the Meta of each field: from_env() enforces them, `blogsvc settings` shows them."""

    database: Annotated[DatabaseURL, Meta(description="mysql://user:password@host:port[,host:port...]/db")] = (
        msgspec.field(default_factory=lambda: DatabaseURL.parse(DEFAULT_DATABASE_URL))
    )
    pool_min: Annotated[int, Meta(ge=0, le=1000, description="connections each worker keeps open per server")] = 1
    pool_max: Annotated[int, Meta(ge=1, le=1000, description="most connections each worker opens per server")] = 10
    pool_acquire_timeout: Annotated[
        float, Meta(ge=0.01, le=600, description="the wait for a free connection before a 503")
    ] = 5.0
    pool_recycle: Annotated[
        int, Meta(ge=1, le=86400, description="seconds after which a pooled connection is replaced")
    ] = 1800
    db_connect_timeout: Annotated[float, Meta(ge=0.1, le=600, description="the wait for a new connection to open")] = (
        5.0
    )
    db_driver: Annotated[Literal["aiomysql", "asyncmy"], Meta(description="the MySQL driver")] = "aiomysql"
    host: Annotated[str, Meta(description="the address `blogsvc serve` binds")] = "127.0.0.1"
    port: Annotated[int, Meta(ge=1, le=65535, description="the port `blogsvc serve` binds")] = 8000
    workers: Annotated[int, Meta(ge=1, le=256, description="worker processes of `blogsvc serve` (default: CPUs)")] = (
        msgspec.field(default_factory=lambda: os.cpu_count() or 1)
    )
    log_level: Annotated[
        Literal["critical", "error", "warning", "info", "debug"], Meta(description="info logs one line a request")
    ] = "info"
    log_format: Annotated[Literal["json", "console"], Meta(description="JSON lines, or text for people")] = "json"
    drain_delay: Annotated[
        float, Meta(ge=0, le=300, description="how long /readyz answers 503 after SIGTERM before the server stops")
    ] = 3.0
    shutdown_timeout: Annotated[
        float, Meta(ge=0, le=3600, description="how long in-flight requests then get to finish")
    ] = 30.0
    readiness_timeout: Annotated[float, Meta(ge=0.05, le=60, description="how long /readyz waits for the database")] = (
        1.0
    )
    hash_concurrency: Annotated[int, Meta(ge=1, le=64, description="argon2 hashes at once per worker")] = 1
    argon2_time_cost: Annotated[int, Meta(ge=1, le=100, description="argon2id passes")] = 2
    argon2_memory_kib: Annotated[int, Meta(ge=8, le=4 * 1024 * 1024, description="argon2id memory in KiB")] = 19456
    argon2_parallelism: Annotated[int, Meta(ge=1, le=64, description="argon2id lanes")] = 1
    cursor_secret: Annotated[str, Meta(description="signs cursors and idempotency fingerprints")] = ""
    statement_timeout: Annotated[
        float, Meta(ge=0, le=86400, description="how long the server lets a statement run (0: no limit)")
    ] = 10.0
    conflict_retries: Annotated[
        int, Meta(ge=0, le=10, description="retries of a write the database rolled back for a conflict")
    ] = 3
    limit_concurrency: Annotated[
        int,
        Meta(ge=0, le=1_000_000, description="requests in progress per worker before it answers 503 (0: no limit)"),
    ] = 1000
    header_timeout: Annotated[
        float, Meta(ge=0.1, le=300, description="seconds a request's headers may take to arrive (then 408)")
    ] = 5.0
    body_timeout: Annotated[
        float, Meta(ge=0.1, le=3600, description="seconds a request's body may take once its headers are in (then 408)")
    ] = 10.0
    env: Annotated[Literal["development", "production"], Meta(description="production refuses to run open")] = (
        "development"
    )
    # SHA-256 digests with their scopes (never the tokens); empty: the API is open, unless api_tokens_file is set.
    api_tokens: Annotated[tuple[ApiToken, ...], Meta(description="read:<token>, write:<token>, ...")] = ()
    api_tokens_file: Annotated[
        str, Meta(description="a file holding what BLOGSVC_API_TOKENS would, re-read when it changes or on SIGHUP")
    ] = ""
    password_min_length: Annotated[int, Meta(ge=8, le=256, description="the shortest password accepted")] = 8
    events_retention_days: Annotated[
        int, Meta(ge=1, le=36500, description="days the change feed keeps an event (GET /events, blogsvc relay)")
    ] = 7

    @property
    def secret(self) -> bytes:
        """What signs cursors and keys idempotency fingerprints: BLOGSVC_CURSOR_SECRET, or this process's own."""
        return (self.cursor_secret or _PROCESS_SECRET).encode()


# The settings of the app serving the current request, for code that runs where no app reaches (the
# request Structs' validators). http/body.py sets it before decoding a body.
in_effect: ContextVar[Settings | None] = ContextVar("blogsvc_settings", default=None)

FIELDS = {field.name: field for field in cast("msgspec.inspect.StructType", msgspec.inspect.type_info(Settings)).fields}
_AT_FIELD = re.compile(r"at `\$\.(\w+)")


def variable(name: str) -> str:
    """The environment variable of a Settings field."""
    return "BLOGSVC_DATABASE_URL" if name == "database" else PREFIX + name.upper()


def from_env(env: Mapping[str, str] | None = None, *, read_tokens: bool = True) -> Settings:
    """Read every BLOGSVC_* setting; raise ConfigError naming the first bad one. `read_tokens=False`, for
    the commands that serve nothing (migrate, relay), leaves BLOGSVC_API_TOKENS_FILE unread: their pods need
    not mount it."""
    env = os.environ if env is None else env
    raw: dict[str, Any] = {}
    for name, field in FIELDS.items():
        if value := env.get(variable(name), "").strip():
            raw[name] = value.lower() if isinstance(_kind(field), msgspec.inspect.LiteralType) else value
    # These two have parsers of their own (and a token must never be quoted in a message).
    if "database" in raw:
        raw["database"] = DatabaseURL.parse(raw["database"])
    if "api_tokens_file" in raw and "api_tokens" in raw:
        raise ConfigError("BLOGSVC_API_TOKENS and BLOGSVC_API_TOKENS_FILE are both set: set one")
    try:
        raw["api_tokens"] = parse_tokens(raw.get("api_tokens", ""))
    except TokenError as exc:
        raise ConfigError(f"BLOGSVC_API_TOKENS: {exc}") from None
    if "api_tokens_file" in raw and read_tokens:
        try:
            raw["api_tokens"] = read_tokens_file(raw["api_tokens_file"])
        except TokenError as exc:
            raise ConfigError(f"BLOGSVC_API_TOKENS_FILE: {exc}") from None
    try:
        settings = msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        name = match[1] if (match := _AT_FIELD.search(str(exc))) else ""
        raise ConfigError(f"{variable(name)} must be {_expected(FIELDS[name])}, got {raw.get(name)!r}") from None
    _check_together(settings)
    return settings


def _kind(field: msgspec.inspect.Field) -> msgspec.inspect.Type:
    return field.type.type if isinstance(field.type, msgspec.inspect.Metadata) else field.type


def _meaning(field: msgspec.inspect.Field) -> str:
    extra = field.type.extra_json_schema if isinstance(field.type, msgspec.inspect.Metadata) else None
    return str((extra or {}).get("description", ""))


def _expected(field: msgspec.inspect.Field) -> str:
    kind = _kind(field)
    if isinstance(kind, msgspec.inspect.LiteralType):
        return "one of " + ", ".join(map(str, kind.values))
    if isinstance(kind, msgspec.inspect.IntType):
        return f"an integer from {kind.ge} to {kind.le}"
    if isinstance(kind, msgspec.inspect.FloatType):
        return f"a number of seconds from {kind.ge:g} to {kind.le:g}"
    return ""


def _check_together(settings: Settings) -> None:
    # A token file counts even when empty: the service then refuses every token-protected request.
    if settings.env == "production" and not settings.api_tokens and not settings.api_tokens_file:
        raise ConfigError("BLOGSVC_ENV is production but BLOGSVC_API_TOKENS is empty: refusing to run open")
    if settings.argon2_memory_kib < 8 * settings.argon2_parallelism:
        raise ConfigError("BLOGSVC_ARGON2_MEMORY_KIB must be at least 8 x BLOGSVC_ARGON2_PARALLELISM")
    if settings.pool_min > settings.pool_max:
        raise ConfigError(
            f"BLOGSVC_POOL_MIN ({settings.pool_min}) must not exceed BLOGSVC_POOL_MAX ({settings.pool_max})"
        )
    if importlib.util.find_spec(settings.db_driver) is None:
        raise ConfigError(f"BLOGSVC_DB_DRIVER: {settings.db_driver} is not installed: pip install 'blogsvc[asyncmy]'")


def described(settings: Settings) -> list[tuple[str, str, str]]:
    """(variable, current value with secrets masked, meaning and bounds) of every setting."""
    rows = []
    for name, field in FIELDS.items():
        value: Any = getattr(settings, name)
        if name == "database":
            value = value.to_url(all_hosts=True, mask_password=True)
        elif name == "api_tokens":
            listed = ", ".join(f"{token.scope}:sha256:{token.sha256.hex()[:8]}..." for token in value)
            value = listed or ("none: every token refused" if settings.api_tokens_file else "none: open")
        elif name == "api_tokens_file":
            value = value or "none"
        elif name == "cursor_secret":
            value = "***" if value else "none: made at start"
        expected = _expected(field)
        rows.append((variable(name), str(value), "; ".join(filter(None, (_meaning(field), expected)))))
    return rows


def share_with_workers(settings: Settings, workers: int) -> None:
    """What the worker processes of `blogsvc serve` must share, put where they will find it (they inherit
    the environment): the secret, and with several workers the directory where prometheus_client's
    multiprocess mode sums their metrics (emptied: old workers' files are stale)."""
    if not settings.cursor_secret:
        os.environ["BLOGSVC_CURSOR_SECRET"] = settings.secret.decode()
    if workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="blogsvc-metrics-")
    if directory := os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.makedirs(directory, exist_ok=True)
        for name in os.listdir(directory):
            if name.endswith(".db"):
                os.remove(os.path.join(directory, name))
