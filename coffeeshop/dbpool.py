"""How the PostgreSQL connection pool (psycopg_pool, which Django creates itself) reconnects.

psycopg_pool retries a lost connection after 1 s, then 2, 4, 8 s ... so after an outage of
a few seconds its next attempt came up to twice the outage after the database was back, and the
web answered 503 all that time (issue 11: 21 s after a 37 s outage). Django builds the pool from
OPTIONS["pool"], which has no say in the back-off, so the steady interval is set on the class.
An attempt is one refused TCP connect per missing connection and process: cheap enough to make
every half second, and the web serves again within about that once the database is back.
"""

from __future__ import annotations

RECONNECT_INTERVAL_SECONDS = 0.5


def steady_reconnects() -> None:
    try:
        from psycopg_pool.base import AttemptWithBackoff
    except ImportError:  # SQLite only: there is no pool to tune
        return
    AttemptWithBackoff.INITIAL_DELAY = RECONNECT_INTERVAL_SECONDS
    AttemptWithBackoff.DELAY_BACKOFF = 1.0
