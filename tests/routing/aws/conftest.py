"""boto3 clients that sign with issued credentials and talk to the real ASGI server, recording
every raw response so that tests can check it against botocore's service model."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.config import Config

from routing.aws.credentials import awscredential_create
from routing.models import region
from tests.support.processes import AsgiServer


@dataclass
class RawResponse:
    operation: str
    status: int
    headers: dict[str, str]
    body: Any


@dataclass
class Recorder:
    """Every HTTP response botocore received, before botocore parsed (and trimmed) it."""

    responses: list[RawResponse] = field(default_factory=list)

    def __call__(self, http_response: Any, model: Any, **kwargs: Any) -> None:
        content = http_response.content
        self.responses.append(RawResponse(
            operation=model.name,
            status=http_response.status_code,
            headers={key.lower(): value for key, value in http_response.headers.items()},
            body=json.loads(content) if content else None,
        ))


@dataclass(frozen=True)
class Credential:
    access_key_id: str
    secret: str


ClientFactory = Callable[..., Any]


def make_client(endpoint_url: str, credential: Credential, *, recorder: Recorder | None = None,
                region_name: str | None = None) -> Any:
    client = boto3.session.Session().client(
        "events",
        endpoint_url=endpoint_url,
        region_name=region_name or region(),
        aws_access_key_id=credential.access_key_id,
        aws_secret_access_key=credential.secret,
        # No retries: a test sees the server's first answer, and an error fails fast.
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )
    if recorder is not None:
        client.meta.events.register("after-call.events", recorder)
    return client


@pytest.fixture
def credential(transactional_db: None) -> Credential:
    row, secret = awscredential_create(name="boto-tests")
    return Credential(row.access_key_id, secret)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def events(asgi_server: AsgiServer, credential: Credential, recorder: Recorder) -> Any:
    """An `events` client for the bus, signing with a credential that may use every bus."""
    return make_client(f"{asgi_server.url}/aws/events", credential, recorder=recorder)


@pytest.fixture
def client_for(asgi_server: AsgiServer) -> ClientFactory:
    def factory(credential: Credential, *, path: str = "/aws/events", **kwargs: Any) -> Any:
        return make_client(f"{asgi_server.url}{path}", credential, **kwargs)

    return factory
