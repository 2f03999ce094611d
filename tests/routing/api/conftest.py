from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from routing.models import EventBus
from routing.services import Actor, bus_create
from routing.services.apikeys import apikey_create


class ApiClient:
    """Django's test client, sending JSON with an API key."""

    def __init__(self, key: str | None) -> None:
        self.client = Client()
        self.key = key

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        sent = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        sent.update(headers or {})
        return sent

    def post(self, path: str, body: Any = None, *, raw: bytes | str | None = None,
             content_type: str = "application/json", headers: dict[str, str] | None = None
             ) -> Any:
        data = raw if raw is not None else ("" if body is None else json.dumps(body))
        return self.client.post(path, data=data, content_type=content_type,
                                headers=self._headers(headers))

    def get(self, path: str, *, headers: dict[str, str] | None = None) -> Any:
        return self.client.get(path, headers=self._headers(headers))


@pytest.fixture
def other_bus(default_bus: EventBus) -> EventBus:
    return bus_create(name="payments", actor=Actor.system("test"))


@pytest.fixture
def api_key(default_bus: EventBus) -> str:
    return apikey_create(name="till-1")[1]


@pytest.fixture
def api(api_key: str) -> ApiClient:
    return ApiClient(api_key)


@pytest.fixture
def anonymous(db: None) -> ApiClient:
    return ApiClient(None)


def entry(**overrides: Any) -> dict[str, Any]:
    return {
        "Source": "coffee.till",
        "DetailType": "OrderManager.MakeOrder",
        "Detail": json.dumps({"orderId": "o-1", "drink": "Latte"}),
        **overrides,
    }
