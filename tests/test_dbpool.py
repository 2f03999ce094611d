"""The connection pool retries a lost database at a steady interval, not with a back-off that
doubles: after an outage the web serves again within that interval of the database's return
(tests/integration/test_database_outage.py shows it with a real PostgreSQL)."""

from psycopg_pool.base import AttemptWithBackoff

from coffeeshop.dbpool import RECONNECT_INTERVAL_SECONDS


def test_reconnect_attempts_never_back_off_beyond_the_interval() -> None:
    attempt = AttemptWithBackoff(timeout=300)
    delays = []
    for second in range(40):
        attempt.update_delay(now=float(second))
        delays.append(attempt.delay)
    assert max(delays) <= RECONNECT_INTERVAL_SECONDS * 1.1  # psycopg_pool's own 10 % jitter
