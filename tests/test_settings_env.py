from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from coffeeshop.settings import env


def test_env_bool_reads_common_spellings(monkeypatch: pytest.MonkeyPatch) -> None:
    for raw, expected in [("1", True), ("yes", True), ("TRUE", True), ("0", False), ("off", False)]:
        monkeypatch.setenv("FLAG", raw)
        assert env.env_bool("FLAG", not expected) is expected
    monkeypatch.delenv("FLAG")
    assert env.env_bool("FLAG", True) is True


def test_env_bool_refuses_nonsense_with_the_variable_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="DEBUG='maybe'"):
        env.env_bool("DEBUG", False)


def test_env_int_and_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "18765")
    assert env.env_int("PORT", 8000) == 18765
    monkeypatch.setenv("PORT", "eighty")
    with pytest.raises(ImproperlyConfigured, match="PORT"):
        env.env_int("PORT", 8000)
    monkeypatch.setenv("ALLOWED_HOSTS", "shop.example, localhost ,")
    assert env.env_list("ALLOWED_HOSTS", []) == ["shop.example", "localhost"]


def test_sqlite_database_is_tuned_for_several_processes(tmp_path) -> None:
    config = env.database_config(f"sqlite:///{tmp_path / 'sub' / 'db.sqlite3'}")
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert (tmp_path / "sub").is_dir()


def test_postgres_database_url() -> None:
    config = env.database_config("postgres://shop:secret@db.internal:5433/coffeeshop")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["NAME"], config["USER"], config["HOST"], config["PORT"]) == (
        "coffeeshop", "shop", "db.internal", 5433,
    )


def test_redis_url_prefers_environment_then_a_running_make_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.setattr(env, "VAR_DIR", tmp_path)
    monkeypatch.setenv("REDIS_URL", "redis://cache.internal:6379/3")
    assert env.redis_url() == "redis://cache.internal:6379/3"
    monkeypatch.delenv("REDIS_URL")
    assert env.redis_url() == "redis://127.0.0.1:6379/0"
    (tmp_path / "embedded-redis.url").write_text("redis://127.0.0.1:40001/0\n")
    assert env.redis_url() == "redis://127.0.0.1:40001/0"


def test_postgres_uses_a_connection_pool_unless_told_not_to(monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    pooled = env.database_config("postgres://shop@db.internal/coffeeshop")
    assert pooled["OPTIONS"]["pool"]["max_size"] == 8
    assert pooled["CONN_MAX_AGE"] == 0  # Django requires it with a pool
    monkeypatch.setenv("DATABASE_POOL", "0")
    plain = env.database_config("postgres://shop@db.internal/coffeeshop")
    assert "pool" not in plain.get("OPTIONS", {})
    assert plain["CONN_MAX_AGE"] == 60
    assert plain["CONN_HEALTH_CHECKS"] is True  # no pool: Django checks a reused connection


def test_pooled_connections_are_checked_and_fail_fast() -> None:

    pooled = env.database_config("postgres://shop@db.internal/coffeeshop")
    # Django passes check=ConnectionPool.check_connection to the pool when health checks are on.
    assert pooled["CONN_HEALTH_CHECKS"] is True
    assert pooled["OPTIONS"]["pool"]["timeout"] <= 2
    assert pooled["OPTIONS"]["connect_timeout"] <= 2


def test_the_channel_layer_reads_for_longer_than_its_blocking_pop() -> None:
    """redis-py's default 5 s read timeout equals channels_redis's 5 s pop: idle sockets died."""
    from channels.layers import get_channel_layer

    layer: Any = get_channel_layer()
    kwargs = layer.create_pool(0).connection_kwargs
    timeout = kwargs["socket_timeout"]
    assert timeout is None or timeout >= 2 * layer.brpop_timeout
    assert kwargs["health_check_interval"] > 0
    assert kwargs["socket_keepalive"] is True
