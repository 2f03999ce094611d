"""Schemathesis against /api/openapi.json, bounded: requests generated from the document (valid
and invalid bodies, parameters and headers) through the real Django app, each answered without a
5xx. A deterministic seed keeps the run repeatable and well under a minute."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from routing.models import EventBus
from routing.services.apikeys import apikey_create

# The real WSGI handler, as a server runs it. The document is a static file: loading it here, at
# collection, needs no database.
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Iterator[None]:
    # Keep the test's database connection (and its transaction) open between requests, as
    # Django's own test client does.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_key(default_bus: EventBus) -> str:
    return apikey_create(name="fuzzer")[1]


@schema.parametrize()
@settings(max_examples=25, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_no_generated_request_gets_a_server_error(case: schemathesis.Case, api_key: str) -> None:
    response = case.call(headers={"Authorization": f"Bearer {api_key}"})
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
