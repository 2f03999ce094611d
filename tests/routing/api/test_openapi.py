"""The OpenAPI description: well formed, every route in it (and every path in it routed), its
examples and the API's real answers shaped as it says; and the human page built from it."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.urls import URLPattern, resolve

from orders import api_urls as orders_api_urls
from routing.api import urls as api_urls
from routing.api.docs import OPENAPI_PATH, openapi_document
from routing.api.http import MAX_BODY_BYTES
from tests.routing.api import schema_check
from tests.routing.api.conftest import ApiClient, entry

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
DOCUMENT = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, operation) for path, item in DOCUMENT["paths"].items()
            for method, operation in item.items() if method in HTTP_METHODS]


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if "$ref" in node else []
        return found + [ref for value in node.values() for ref in refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in refs(value)]
    return []


def openapi_path(route: str) -> str:
    return "/api/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def routed_patterns() -> list[URLPattern]:
    # The order API is mounted at /api/ too, ahead of the bus's routes, and described here.
    patterns = [*orders_api_urls.urlpatterns, *api_urls.urlpatterns]
    return [p for p in patterns if p.name != "not-found"]


def test_the_document_is_well_formed_openapi_3_1() -> None:
    assert DOCUMENT["openapi"].startswith("3.1.")
    assert {"title", "version"} <= DOCUMENT["info"].keys()
    schemes = DOCUMENT["components"]["securitySchemes"]
    for requirement in DOCUMENT["security"]:
        assert requirement.keys() <= schemes.keys()
    for ref in refs(DOCUMENT):
        schema_check.resolve(DOCUMENT, ref)  # raises KeyError if dangling
    ids = [operation["operationId"] for _, _, operation in operations()]
    assert len(ids) == len(set(ids))
    for path, method, operation in operations():
        assert operation["summary"], (path, method)
        assert "200" in operation["responses"], (path, method)
        for response in operation["responses"].values():
            response = schema_check.resolve(DOCUMENT, response["$ref"]) if "$ref" in response \
                else response
            assert response["description"]
            for media in response.get("content", {}).values():
                assert "schema" in media
        parameters = [schema_check.resolve(DOCUMENT, p["$ref"]) if "$ref" in p else p
                      for p in operation.get("parameters", [])]
        declared = {p["name"] for p in parameters if p["in"] == "path"}
        assert declared == set(re.findall(r"{(\w+)}", path)), path
        for requirement in operation.get("security", []):
            assert requirement.keys() <= schemes.keys()


def test_every_route_is_described_with_its_methods_and_every_path_is_routed() -> None:
    described = {path: {m.upper() for m in item if m in HTTP_METHODS}
                 for path, item in DOCUMENT["paths"].items()}
    routed = {}
    for pattern in routed_patterns():
        path = openapi_path(str(pattern.pattern))
        assert path in described, f"{path} is routed but missing from openapi.json"
        routed[path] = set(pattern.callback.allowed_methods) - {"HEAD"}  # type: ignore[attr-defined]
        assert routed[path] == described[path], path
    assert routed.keys() == described.keys()
    for path, _, _ in operations():
        example = path.replace("{event_id}", "0b0f5d0e-4d7c-4a8e-9d55-6bd0c1b2a3f4") \
            .replace("{delivery_id}", "6a1f0c3e-2b7d-4c9a-8e51-3f2d1c0b9a87") \
            .replace("{action}", "claim").replace("{slug}", "main")
        assert resolve(example).url_name != "not-found", path


def test_every_example_fits_its_schema() -> None:
    checked = 0
    for _, _, operation in operations():
        bodies = [operation.get("requestBody", {}), *operation["responses"].values()]
        for holder in bodies:
            if "$ref" in holder:
                holder = schema_check.resolve(DOCUMENT, holder["$ref"])
            for media in holder.get("content", {}).values():
                if "example" in media:
                    assert not schema_check.errors(DOCUMENT, media["schema"], media["example"])
                    checked += 1
    assert checked >= 15


def test_the_documented_body_limit_is_the_real_one() -> None:
    limit = DOCUMENT["components"]["responses"]["PayloadTooLarge"]["description"]
    assert f"{MAX_BODY_BYTES:,}" in limit


@pytest.mark.django_db
def test_the_api_answers_as_documented(api: ApiClient) -> None:
    schemas = DOCUMENT["components"]["schemas"]

    def check(schema_name: str, body: Any) -> None:
        assert not schema_check.errors(DOCUMENT, schemas[schema_name], body), body

    put = api.post("/api/events", {"Entries": [entry(), entry(Detail="[]")]}).json()
    check("PutEventsResponse", put)
    trace = api.get(f"/api/events/{put['Entries'][0]['EventId']}").json()
    check("EventTrace", trace)
    # ...and the checker does notice a body that is not shaped so.
    assert schema_check.errors(DOCUMENT, schemas["EventTrace"], {**trace, "status": "lost"})
    assert schema_check.errors(DOCUMENT, schemas["EventTrace"], {**trace, "deliveries": [{}]})
    check("TestEventPatternResponse", api.post("/api/test-event-pattern", {
        "EventPattern": {"source": ["x"]}, "Event": {"id": "1", "account": "1", "source": "x",
                                                     "time": "t", "region": "r",
                                                     "detail-type": "d"}}).json())
    check("RedriveResponse", api.post("/api/dead-letters/redrive",
                                      {"DeliveryIds": ["nope"]}).json())
    for error in (api.post("/api/events", {}), ApiClient(None).post("/api/events", {}),
                  api.get("/api/events/nope"), api.get("/api/events")):
        check("Error", error.json())


@pytest.mark.django_db
def test_the_served_document_names_its_server(anonymous: ApiClient) -> None:
    response = anonymous.client.get("/api/openapi.json", HTTP_HOST="bus.example.com")
    assert response.status_code == 200
    served = response.json()
    assert served["servers"] == [{"url": "http://bus.example.com"}]
    assert {k: v for k, v in served.items() if k != "servers"} == {
        k: v for k, v in openapi_document().items() if k != "servers"
    }


@pytest.mark.django_db
def test_the_docs_page_lists_every_endpoint_with_a_curl_example(anonymous: ApiClient) -> None:
    response = anonymous.client.get("/api/docs", HTTP_HOST="bus.example.com")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    for path, method, _ in operations():
        assert f"<code>{method.upper()} {path}</code>" in page
    assert "curl -sS -X POST http://bus.example.com/api/events" in page
    assert "Authorization: Bearer $COFFEESHOP_API_KEY" in page
    assert "http://bus.example.com/api/events/0b0f5d0e-4d7c-4a8e-9d55-6bd0c1b2a3f4" in page
    assert "<script src=\"http" not in page  # nothing from a CDN
