"""The shop's URLs plus the bench's baselines, served by the same process and middleware.

Only benchmarks.settings routes here: production's URLconf (coffeeshop.urls) has none of it."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from coffeeshop.urls import urlpatterns as shop_urlpatterns

CEILING_TABLE = "bench_ceiling"
# Rows a recursive count walks through: about a second of database work on this machine.
HEAVY_QUERY_ROWS = 1_000_000


def create_ceiling_table() -> None:
    """The table the ceiling view writes to (the bench makes it before loading the server)."""
    key = ("bigserial PRIMARY KEY" if connection.vendor == "postgresql"
           else "integer PRIMARY KEY AUTOINCREMENT")
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {CEILING_TABLE} (id {key}, body text)")


@csrf_exempt
def ceiling(request: HttpRequest) -> HttpResponse:
    """The least a Django view that stores a request can do: one INSERT, committed (autocommit)."""
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {CEILING_TABLE} (body) VALUES (%s)",  # noqa: S608
                       [request.body.decode("utf-8", "replace")[:1000]])
    return HttpResponse(b'{"ok":true}', content_type="application/json")


_async_pool: Any = None


async def ceiling_async(request: HttpRequest) -> HttpResponse:
    """The ceiling as an async view on psycopg's async pool (PostgreSQL only): the other way to
    stop funnelling requests through threads, measured beside more processes."""
    global _async_pool
    if _async_pool is None:
        from psycopg_pool import AsyncConnectionPool

        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("context", None)
        params.pop("prepare_threshold", None)
        _async_pool = AsyncConnectionPool(kwargs={**params, "autocommit": True}, min_size=1,
                                          max_size=8, open=False)
        await _async_pool.open()
    async with _async_pool.connection() as conn:
        await conn.execute(f"INSERT INTO {CEILING_TABLE} (body) VALUES (%s)",  # noqa: S608
                           [request.body.decode("utf-8", "replace")[:1000]])
    return HttpResponse(b'{"ok":true}', content_type="application/json")


def heavy(request: HttpRequest) -> HttpResponse:
    """A query that keeps the database and one request busy for about a second (a dashboard
    report over a large table, say)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH RECURSIVE counter(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM counter "
            "WHERE n < %s) SELECT count(*) FROM counter", [HEAVY_QUERY_ROWS])
        (count,) = cursor.fetchone()
    return HttpResponse(str(count).encode(), content_type="text/plain")


urlpatterns = [
    path("bench/ceiling", ceiling),
    path("bench/ceiling-async", csrf_exempt(ceiling_async)),
    path("bench/heavy", heavy),
    *shop_urlpatterns,
]
