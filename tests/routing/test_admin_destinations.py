"""Connections and API destinations in the admin: listed and shown without any secret, never
edited there, and deauthorized through the service by an action."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from routing.models import ConnectionState
from routing.services import Actor
from routing.services.api_destinations import api_destination_create
from routing.services.connections import connection_create

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("test")


def test_the_admin_shows_connections_without_secrets_and_deauthorizes(
    admin_client: Client,
) -> None:
    connection = connection_create(
        name="till", authorization_type="BASIC", actor=ACTOR,
        auth_parameters={"BasicAuthParameters": {"Username": "till", "Password": "pw-s3cret"},
                         "InvocationHttpParameters": {"HeaderParameters": [
                             {"Key": "X-T", "Value": "hdr-s3cret", "IsValueSecret": True}]}})
    destination = api_destination_create(name="till-api", connection_reference="till",
                                         invocation_endpoint="https://till.example.com/*",
                                         http_method="POST", actor=ACTOR)
    pages = [
        admin_client.get(reverse("admin:routing_connection_changelist")),
        admin_client.get(reverse("admin:routing_connection_change", args=[connection.pk])),
        admin_client.get(reverse("admin:routing_apidestination_changelist")),
        admin_client.get(reverse("admin:routing_apidestination_change", args=[destination.pk])),
    ]
    for page in pages:
        assert page.status_code == 200
        assert "s3cret" not in page.content.decode()
    assert "till-api" in pages[2].content.decode()
    assert "X-T" in pages[1].content.decode()
    assert admin_client.get(reverse("admin:routing_connection_add")).status_code == 403

    response = admin_client.post(reverse("admin:routing_connection_changelist"), {
        "action": "deauthorize", "_selected_action": [connection.pk]})
    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.state == ConnectionState.DEAUTHORIZED
    assert connection.parameters_encrypted == ""
