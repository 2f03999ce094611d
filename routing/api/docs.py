"""The API's description (openapi.json, written by hand) and the human page built from it, so
the page's endpoints and curl examples can never drift from the document."""

from __future__ import annotations

import json
import shlex
from functools import cache
from pathlib import Path
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template import engines

from routing.api.http import MAX_BODY_BYTES
from routing.services.publish import MAX_ENTRIES_PER_REQUEST, MAX_REQUEST_BYTES

OPENAPI_PATH = Path(__file__).with_name("openapi.json")
DOCS_TEMPLATE_PATH = Path(__file__).with_name("docs.html")
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


@cache
def openapi_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    return document


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _json_example(document: dict[str, Any], holder: dict[str, Any] | None) -> Any:
    if not holder:
        return None
    media = _resolve(document, holder).get("content", {}).get("application/json", {})
    return media.get("example")


def curl_example(document: dict[str, Any], origin: str, path: str, method: str,
                 operation: dict[str, Any]) -> str:
    for parameter in operation.get("parameters", []):
        parameter = _resolve(document, parameter)
        if parameter["in"] == "path":
            path = path.replace("{" + parameter["name"] + "}", str(parameter["example"]))
    lines = ["curl -sS" + ("" if method == "get" else f" -X {method.upper()}")
             + f" {shlex.quote(origin + path)}"]
    security = operation.get("security", document.get("security")) or []
    if any("shopSession" in scheme for scheme in security):
        # The order API takes a signed-in session, not an API key.
        lines.append('-b "sessionid=$SESSION_ID"')
    elif security:
        lines.append('-H "Authorization: Bearer $COFFEESHOP_API_KEY"')
    body = _json_example(document, operation.get("requestBody"))
    if body is not None:
        lines.append('-H "Content-Type: application/json"')
        lines.append("-d " + shlex.quote(json.dumps(body, ensure_ascii=False)))
    return " \\\n     ".join(lines)


def docs_context(request: HttpRequest) -> dict[str, Any]:
    document = openapi_document()
    origin = request.build_absolute_uri("/").rstrip("/")
    endpoints = []
    for path, method, operation in _operations(document):
        response = _json_example(document, operation.get("responses", {}).get("200"))
        endpoints.append({
            "method": method.upper(),
            "path": path,
            "anchor": operation["operationId"],
            "summary": operation.get("summary", ""),
            "description": operation.get("description", ""),
            "public": not operation.get("security", document.get("security")),
            "curl": curl_example(document, origin, path, method, operation),
            "response": json.dumps(response, indent=2, ensure_ascii=False) if response else "",
        })
    return {
        "info": document["info"],
        "openapi_version": document["openapi"],
        "endpoints": endpoints,
        "origin": origin,
        "max_entries": MAX_ENTRIES_PER_REQUEST,
        "max_request_kb": MAX_REQUEST_BYTES // 1024,
        "max_body_bytes": MAX_BODY_BYTES,
    }


def render_docs_page(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    # The template lives beside the API it documents; the project's engine still resolves
    # {% extends "base.html" %} and the context processors.
    template = engines["django"].from_string(DOCS_TEMPLATE_PATH.read_text(encoding="utf-8"))
    return HttpResponse(template.render(context, request))
