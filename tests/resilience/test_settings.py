"""The settings of this feature: a database URL naming several servers, the statement limit, the
conflict retries and uvicorn's concurrency limit."""

from __future__ import annotations

import pytest

from blogsvc.config import ConfigError, DatabaseURL, from_env


def test_a_url_may_name_several_servers() -> None:
    url = DatabaseURL.parse("mysql://app:p%40ss@db1:3307,db2,[fd00::3]:3309/blog")
    assert url.hosts == (("db1", 3307), ("db2", 3306), ("fd00::3", 3309))
    # The first is host:port, where `blogsvc migrate` goes; yoyo's URL names it alone.
    assert (url.host, url.port, url.user, url.password, url.database) == ("db1", 3307, "app", "p@ss", "blog")
    assert url.to_url() == "mysql://app:p%40ss@db1:3307/blog"
    assert url.to_url(all_hosts=True) == "mysql://app:p%40ss@db1:3307,db2:3306,[fd00::3]:3309/blog"
    assert DatabaseURL.parse(url.to_url(all_hosts=True)) == url
    assert url.with_database("other").hosts == url.hosts


def test_one_server_is_a_list_of_one() -> None:
    url = DatabaseURL.parse("mysql://root@127.0.0.1:3306/blogsvc")
    assert url.hosts == (("127.0.0.1", 3306),)
    assert url == DatabaseURL(user="root", password="", host="127.0.0.1", port=3306, database="blogsvc")


def test_hosts_must_start_with_host_and_port() -> None:
    with pytest.raises(ValueError, match="hosts must start with host:port"):
        DatabaseURL(user="u", password="", host="a", port=1, database="d", hosts=(("b", 1),))


@pytest.mark.parametrize(
    "url",
    [
        "mysql://root@db1:3306,/blog",
        "mysql://root@,db2/blog",
        "mysql://root@db1,db2:port/blog",
        "mysql://root@db1,db2:70000/blog",
        "mysql://root@db1,[fd00::1/blog",
    ],
)
def test_a_bad_server_in_the_list_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError, match="BLOGSVC_DATABASE_URL"):
        from_env({"BLOGSVC_DATABASE_URL": url})


def test_defaults_and_variables() -> None:
    default = from_env({})
    assert (default.statement_timeout, default.conflict_retries, default.limit_concurrency) == (10.0, 3, 1000)
    settings = from_env(
        {"BLOGSVC_STATEMENT_TIMEOUT": "0.5", "BLOGSVC_CONFLICT_RETRIES": "0", "BLOGSVC_LIMIT_CONCURRENCY": "0"}
    )
    assert (settings.statement_timeout, settings.conflict_retries, settings.limit_concurrency) == (0.5, 0, 0)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("BLOGSVC_STATEMENT_TIMEOUT", "-1"),
        ("BLOGSVC_STATEMENT_TIMEOUT", "soon"),
        ("BLOGSVC_CONFLICT_RETRIES", "11"),
        ("BLOGSVC_CONFLICT_RETRIES", "1.5"),
        ("BLOGSVC_LIMIT_CONCURRENCY", "-5"),
    ],
)
def test_bad_values_name_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        from_env({variable: value})
