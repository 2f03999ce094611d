"""A database outage is answered 503 in each door's own shape, by the one mapping in
coffeeshop.unavailable. The outage here is real: the connection is pointed where no database
is (a directory that does not exist for SQLite, a closed port for PostgreSQL)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

import psycopg_pool
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.test import Client, RequestFactory

from coffeeshop.embedded_redis import free_tcp_port
from coffeeshop.unavailable import RETRY_AFTER_SECONDS, is_database_unavailable
from coffeeshop.views import server_error
from routing.services.apikeys import KEY_SCHEME

AWS_JSON = "application/x-amz-json-1.1"


def _wrapped(error: BaseException) -> OperationalError:
    # What Django's DatabaseErrorWrapper raises: its own class, the driver's error as cause.
    try:
        raise OperationalError(str(error)) from error
    except OperationalError as wrapped:
        return wrapped


def test_the_mapping_knows_an_outage_from_a_bug() -> None:
    assert is_database_unavailable(_wrapped(psycopg_pool.PoolTimeout("no connection in 2 s")))
    assert is_database_unavailable(InterfaceError("connection already closed"))
    assert is_database_unavailable(_wrapped(sqlite3.OperationalError("database is locked")))
    assert is_database_unavailable(_wrapped(sqlite3.OperationalError(
        "unable to open database file")))
    # Something raised while handling an outage still names it as its context.
    outer = RuntimeError("a view failed because of it")
    outer.__context__ = InterfaceError("connection already closed")
    assert is_database_unavailable(outer)
    # Bugs stay 500s: a missing table, an integrity error, anything not the database's state.
    assert not is_database_unavailable(_wrapped(sqlite3.OperationalError("no such table: x")))
    assert not is_database_unavailable(DatabaseError("value too long"))
    assert not is_database_unavailable(ValueError("bad input"))
    assert not is_database_unavailable(None)


@pytest.fixture
def database_down(transactional_db: None) -> Iterator[None]:
    saved = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "postgresql":
        connection.close_pool()  # type: ignore[attr-defined]
        connection.settings_dict.update(HOST="127.0.0.1", PORT=str(free_tcp_port()))
    else:
        connection.settings_dict["NAME"] = "/nonexistent-coffeeshop-dir/db.sqlite3"
    yield
    connection.close()
    if connection.vendor == "postgresql":
        connection.close_pool()  # type: ignore[attr-defined]
    connection.settings_dict.clear()
    connection.settings_dict.update(saved)


@pytest.mark.timeout(60)
def test_api_answers_json_503_with_retry_after(database_down: None) -> None:
    well_formed_key = f"{KEY_SCHEME}_0123456789ab_{'x' * 43}"  # looked up, so the DB is asked
    response = Client().post("/api/events", data={"Entries": []}, content_type="application/json",
                             headers={"Authorization": f"Bearer {well_formed_key}"})
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    body = response.json()
    assert body["code"] == "ServiceUnavailable"
    assert "retry" in body["message"]


@pytest.mark.timeout(60)
def test_aws_endpoint_answers_aws_service_unavailable(database_down: None) -> None:
    body = json.dumps({}).encode()
    signed = AWSRequest(method="POST", url="http://testserver/aws/events", data=body,
                        headers={"Content-Type": AWS_JSON,
                                 "X-Amz-Target": "AWSEvents.ListEventBuses"})
    SigV4Auth(Credentials("CSAKNOTISSUEDYET0000", "secret"), "events", "us-east-1").add_auth(signed)
    headers = {key: value for key, value in signed.headers.items() if key != "Content-Type"}
    response = Client().post("/aws/events", data=body, content_type=AWS_JSON, headers=headers)
    assert response.status_code == 503
    assert response["x-amzn-ErrorType"] == "ServiceUnavailable"
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert json.loads(response.content)["__type"] == "ServiceUnavailable"


@pytest.mark.timeout(60)
def test_pages_show_back_in_a_moment(database_down: None) -> None:
    response = Client().get("/shop/main/")
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    page = response.content.decode()
    assert "Back in a moment" in page
    assert "/static/css/app.css" in page  # the site's own look
    assert '<html lang="en">' in page


@pytest.mark.timeout(60)
def test_outage_outside_a_view_reaches_handler500_in_the_same_shape() -> None:
    factory = RequestFactory()
    for path, check in [
        ("/api/events", lambda r: r.status_code == 503 and json.loads(r.content)["code"]
         == "ServiceUnavailable"),
        ("/aws/events", lambda r: r["x-amzn-ErrorType"] == "ServiceUnavailable"),
        ("/shop/main/", lambda r: r.status_code == 503 and b"Back in a moment" in r.content),
    ]:
        try:
            raise _wrapped(psycopg_pool.PoolTimeout("couldn't get a connection after 2.00 sec"))
        except OperationalError:
            response = server_error(factory.post(path))
        assert check(response), (path, response.status_code, response.content[:200])
        assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)


def test_other_failures_on_the_api_stay_json() -> None:
    try:
        raise ValueError("a bug")
    except ValueError:
        api = server_error(RequestFactory().post("/api/events"))
        aws = server_error(RequestFactory().post("/aws/events"))
    assert api.status_code == 500
    assert json.loads(api.content)["code"] == "InternalFailure"
    assert aws.status_code == 500
    assert aws["x-amzn-ErrorType"] == "InternalException"
