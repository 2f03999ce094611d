"""PostgreSQL stopped under a running web process: every door answers 503 at once, in its own
shape, and the web serves again as soon as the database is back.

The database is private (its own server on a free port), the web process is the project's ASGI
application under uvicorn, and the AWS client is boto3 itself."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from coffeeshop.embedded_redis import EmbeddedRedis
from coffeeshop.settings.env import BASE_DIR
from tests.support.postgres import PrivatePostgres
from tests.support.processes import AsgiServer, child_environment

# Guards against a hang only; the figures themselves are printed (and noted in the docs).
REQUEST_GUARD_SECONDS = 15

CREATE_CALLERS = """
import json
from routing.services.apikeys import apikey_create
from routing.aws.credentials import awscredential_create
from routing.services import bus_ensure_default
bus_ensure_default()
_, key = apikey_create(name="outage-test")
credential, secret = awscredential_create(name="outage-test")
print(json.dumps({"key": key, "access_key_id": credential.access_key_id, "secret": secret}))
"""


@dataclass
class Stack:
    postgres: PrivatePostgres
    web: AsgiServer
    api_key: str
    access_key_id: str
    secret: str


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), *args], env=env,
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    postgres = PrivatePostgres().init()
    redis = EmbeddedRedis().start()
    web: AsgiServer | None = None
    try:
        postgres.start()
        postgres.create_database()
        env = {"DATABASE_URL": postgres.url(), "REDIS_URL": redis.url}
        manage_env = child_environment(**env)
        _manage(manage_env, "migrate", "--noinput")
        callers = json.loads(_manage(manage_env, "shell", "-c", CREATE_CALLERS).splitlines()[-1])
        web = AsgiServer(env=env).start_and_wait()
        yield Stack(postgres, web, callers["key"], callers["access_key_id"], callers["secret"])
    finally:
        if web is not None:
            web.stop()
        postgres.destroy()
        redis.stop()


def _request(url: str, *, data: bytes | None = None,
             headers: dict[str, str] | None = None) -> Answer:
    request = urllib.request.Request(url, data=data, headers=headers or {},
                                     method="POST" if data is not None else "GET")
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_GUARD_SECONDS) as response:
            body, status, raw_headers = response.read(), response.status, response.headers
    except urllib.error.HTTPError as error:
        body, status, raw_headers = error.read(), error.code, error.headers
    return Answer(status, {k.lower(): v for k, v in raw_headers.items()}, body,
                  time.monotonic() - started)


def _publish(stack: Stack) -> Answer:
    entry = {"Source": "outage.test", "DetailType": "Ping", "Detail": json.dumps({"n": 1})}
    return _request(f"{stack.web.url}/api/events", data=json.dumps({"Entries": [entry]}).encode(),
                    headers={"Content-Type": "application/json",
                             "Authorization": f"Bearer {stack.api_key}"})


def _events_client(stack: Stack) -> Any:
    return boto3.session.Session().client(
        "events", endpoint_url=f"{stack.web.url}/aws/events", region_name="us-east-1",
        aws_access_key_id=stack.access_key_id, aws_secret_access_key=stack.secret,
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"},
                      read_timeout=REQUEST_GUARD_SECONDS),
    )


@pytest.mark.timeout(300)
def test_database_stopped_then_started(stack: Stack) -> None:
    events = _events_client(stack)
    assert _publish(stack).status == 200
    assert events.list_event_buses()["EventBuses"]

    stack.postgres.stop()
    outage_started = time.monotonic()

    api = _publish(stack)
    assert api.status == 503, api.body[:500]
    assert api.headers["content-type"] == "application/json"
    assert int(api.headers["retry-after"]) > 0
    assert api.json()["code"] == "ServiceUnavailable"

    health = _request(f"{stack.web.url}/healthz")
    assert health.status == 503
    assert health.json()["database"] == "down"

    with pytest.raises(ClientError) as raised:
        events.put_events(Entries=[{"Source": "outage.test", "DetailType": "Ping",
                                    "Detail": "{}"}])
    error = raised.value.response
    assert error["Error"]["Code"] == "ServiceUnavailable"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 503

    page = _request(f"{stack.web.url}/shop/main/")
    assert page.status == 503
    assert b"Back in a moment" in page.body
    assert int(page.headers["retry-after"]) > 0

    # Keep publishing through a longer outage: a connection pool that backs off between
    # reconnection attempts is what used to keep the web failing long after the database was back.
    while time.monotonic() - outage_started < 10:
        assert _publish(stack).status == 503

    stack.postgres.start()
    back = time.monotonic()
    while (answer := _publish(stack)).status != 200:
        assert answer.status == 503, answer.body[:500]
        assert time.monotonic() - back < 60, "the web never served again"
        time.sleep(0.05)
    recovered = time.monotonic() - back
    print(f"\nfigures: API 503 in {api.seconds:.2f} s, /healthz in {health.seconds:.2f} s, "
          f"page 503 in {page.seconds:.2f} s, served again {recovered:.2f} s after PostgreSQL "
          f"was back")
    assert events.list_event_buses()["EventBuses"]
