"""Settings from the environment: the only module that reads os.environ."""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import quote, unquote, urlsplit

import msgspec

from blogsvc import drivers
from blogsvc.security.tokens import ApiToken, TokenError, parse_tokens

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

DEFAULT_DATABASE_URL = "mysql://root@127.0.0.1:3306/blogsvc"
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
ENVIRONMENTS = ("development", "production")
_DATABASE_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")

T = TypeVar("T")
N = TypeVar("N", int, float)


class ConfigError(Exception):
    """A setting has a bad value; the message names the variable."""


class DatabaseURL(msgspec.Struct, frozen=True, kw_only=True):
    user: str
    password: str
    host: str
    port: int
    database: str
    # Every server, in order of preference (see db.Database); the first is host:port, the one
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

    def to_url(self, *, all_hosts: bool = False) -> str:
        """The URL form yoyo takes (user and password percent-encoded), naming the first server; with
        `all_hosts`, every server, the form BLOGSVC_DATABASE_URL takes."""
        auth = quote(self.user, safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        servers = self.hosts if all_hosts else self.hosts[:1]
        netloc = ",".join(f"[{host}]:{port}" if ":" in host else f"{host}:{port}" for host, port in servers)
        return f"mysql://{auth}@{netloc}/{self.database}"


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database: DatabaseURL
    pool_min: int = 1
    pool_max: int = 10
    pool_acquire_timeout: float = 5.0
    pool_recycle: int = 1800
    db_connect_timeout: float = 5.0
    db_driver: str = "aiomysql"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    log_level: str = "info"
    log_format: str = "json"
    drain_delay: float = 3.0
    shutdown_timeout: float = 30.0
    readiness_timeout: float = 1.0
    hash_concurrency: int = 1
    argon2_time_cost: int = 2
    argon2_memory_kib: int = 19456
    argon2_parallelism: int = 1
    cursor_secret: str = ""
    statement_timeout: float = 10.0
    conflict_retries: int = 3
    limit_concurrency: int = 1000
    env: str = "development"
    # SHA-256 digests with their scopes (never the tokens); empty: the API is open.
    api_tokens: tuple[ApiToken, ...] = ()
    password_min_length: int = 8


def _ranged(kind: Callable[[str], N], low: N, high: N, what: str) -> Callable[[str], N]:
    def parse(text: str) -> N:
        value = kind(text)
        if not low <= value <= high:  # NaN fails this too
            raise ValueError
        return value

    parse.__doc__ = f"{what} from {low:g} to {high:g}"
    return parse


def _integer(low: int, high: int) -> Callable[[str], int]:
    return _ranged(int, low, high, "an integer")


def _seconds(low: float, high: float) -> Callable[[str], float]:
    return _ranged(float, low, high, "a number of seconds")


def _one_of(*choices: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text.lower() not in choices:
            raise ValueError
        return text.lower()

    parse.__doc__ = "one of " + ", ".join(choices)
    return parse


def _get(env: Mapping[str, str], name: str, parse: Callable[[str], T], default: T) -> T:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return parse(raw.strip())
    except ValueError:
        raise ConfigError(f"{name} must be {parse.__doc__}, got {raw!r}") from None


def _api_tokens(env: Mapping[str, str]) -> tuple[ApiToken, ...]:
    # Not through _get(): its message would quote the value, and the value holds secrets.
    try:
        return parse_tokens(env.get("BLOGSVC_API_TOKENS", ""))
    except TokenError as exc:
        raise ConfigError(f"BLOGSVC_API_TOKENS: {exc}") from None


def from_env(env: Mapping[str, str] | None = None) -> Settings:
    """Read every BLOGSVC_* setting; raise ConfigError naming the first bad one."""
    env = os.environ if env is None else env
    cpus = os.cpu_count() or 1
    settings = Settings(
        database=DatabaseURL.parse(env.get("BLOGSVC_DATABASE_URL") or DEFAULT_DATABASE_URL),
        pool_min=_get(env, "BLOGSVC_POOL_MIN", _integer(0, 1000), 1),
        pool_max=_get(env, "BLOGSVC_POOL_MAX", _integer(1, 1000), 10),
        pool_acquire_timeout=_get(env, "BLOGSVC_POOL_ACQUIRE_TIMEOUT", _seconds(0.01, 600), 5.0),
        pool_recycle=_get(env, "BLOGSVC_POOL_RECYCLE", _integer(1, 86400), 1800),
        db_connect_timeout=_get(env, "BLOGSVC_DB_CONNECT_TIMEOUT", _seconds(0.1, 600), 5.0),
        db_driver=_get(env, "BLOGSVC_DB_DRIVER", _one_of(*drivers.NAMES), "aiomysql"),
        host=env.get("BLOGSVC_HOST") or "127.0.0.1",
        port=_get(env, "BLOGSVC_PORT", _integer(1, 65535), 8000),
        workers=_get(env, "BLOGSVC_WORKERS", _integer(1, 256), cpus),
        log_level=_get(env, "BLOGSVC_LOG_LEVEL", _one_of(*LOG_LEVELS), "info"),
        log_format=_get(env, "BLOGSVC_LOG_FORMAT", _one_of("json", "console"), "json"),
        drain_delay=_get(env, "BLOGSVC_DRAIN_DELAY", _seconds(0, 300), 3.0),
        shutdown_timeout=_get(env, "BLOGSVC_SHUTDOWN_TIMEOUT", _seconds(0, 3600), 30.0),
        readiness_timeout=_get(env, "BLOGSVC_READINESS_TIMEOUT", _seconds(0.05, 60), 1.0),
        hash_concurrency=_get(env, "BLOGSVC_HASH_CONCURRENCY", _integer(1, 64), 1),
        argon2_time_cost=_get(env, "BLOGSVC_ARGON2_TIME_COST", _integer(1, 100), 2),
        argon2_memory_kib=_get(env, "BLOGSVC_ARGON2_MEMORY_KIB", _integer(8, 4 * 1024 * 1024), 19456),
        argon2_parallelism=_get(env, "BLOGSVC_ARGON2_PARALLELISM", _integer(1, 64), 1),
        cursor_secret=env.get("BLOGSVC_CURSOR_SECRET", ""),
        statement_timeout=_get(env, "BLOGSVC_STATEMENT_TIMEOUT", _seconds(0, 86400), 10.0),
        conflict_retries=_get(env, "BLOGSVC_CONFLICT_RETRIES", _integer(0, 10), 3),
        limit_concurrency=_get(env, "BLOGSVC_LIMIT_CONCURRENCY", _integer(0, 1_000_000), 1000),
        env=_get(env, "BLOGSVC_ENV", _one_of(*ENVIRONMENTS), "development"),
        api_tokens=_api_tokens(env),
        password_min_length=_get(env, "BLOGSVC_PASSWORD_MIN_LENGTH", _integer(8, 256), 8),
    )
    if settings.env == "production" and not settings.api_tokens:
        raise ConfigError("BLOGSVC_ENV is production but BLOGSVC_API_TOKENS is empty: refusing to run open")
    if settings.argon2_memory_kib < 8 * settings.argon2_parallelism:
        raise ConfigError("BLOGSVC_ARGON2_MEMORY_KIB must be at least 8 x BLOGSVC_ARGON2_PARALLELISM")
    try:
        drivers.load(settings.db_driver)
    except ImportError as exc:
        raise ConfigError(f"BLOGSVC_DB_DRIVER: {exc}") from None
    if settings.pool_min > settings.pool_max:
        raise ConfigError(
            f"BLOGSVC_POOL_MIN ({settings.pool_min}) must not exceed BLOGSVC_POOL_MAX ({settings.pool_max})"
        )
    return settings
