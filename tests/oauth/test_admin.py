"""Applications in the admin: created through the service, secret shown once, revoked."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.urls import reverse

from oms.oauth.models import Application
from oms.oauth.services import client_secret_matches
from tests import factories

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:oauth_application_add")
LIST_URL = reverse("admin:oauth_application_changelist")


@pytest.fixture
def staff_client(client, organization):
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-123456!")
    client.force_login(user)
    return client


def add_form(**fields: str) -> dict[str, str]:
    return {"name": "App", "kind": "sales_channel", "role": "", "market": "", **fields}


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_adding_an_integration_shows_its_secret_once(staff_client):
    response = staff_client.post(ADD_URL, add_form(name="ERP", kind="integration", role="admin"))
    assert response.status_code == 302
    application = Application.objects.get()
    (message,) = [m for m in messages_of(response) if application.client_id in m]
    secret = message.split("client secret: ")[1].split(" ")[0]
    assert client_secret_matches(secret, application.client_secret_hash)

    change_url = reverse("admin:oauth_application_change", args=[application.pk])
    assert secret in staff_client.get(change_url).content.decode()
    again = staff_client.get(change_url)
    assert again.status_code == 200
    assert secret not in again.content.decode()


def test_adding_a_sales_channel_for_a_market(staff_client, market):
    response = staff_client.post(ADD_URL, add_form(name="Shop", market=market.pk))
    assert response.status_code == 302
    application = Application.objects.get()
    assert application.market == market
    assert application.client_secret_hash == ""
    (message,) = [m for m in messages_of(response) if application.client_id in m]
    assert "client secret" not in message


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"kind": "integration"}, "An integration needs a role: admin or read_only."),
        ({"kind": "sales_channel", "role": "admin"}, "A sales channel has no role."),
    ],
)
def test_role_must_match_kind_in_the_admin(staff_client, fields, error):
    response = staff_client.post(ADD_URL, add_form(**fields))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["role"] == [error]
    assert not Application.objects.exists()


def test_only_the_name_can_change(staff_client, market):
    application = factories.ApplicationFactory.create(name="Old", market=market)
    url = reverse("admin:oauth_application_change", args=[application.pk])
    response = staff_client.post(url, {"name": "New", "kind": "integration", "role": "admin"})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.name == "New"
    assert application.kind == "sales_channel"
    assert application.market == market


def test_revoke_action(staff_client):
    first, second = factories.ApplicationFactory.create(), factories.ApplicationFactory.create()
    response = staff_client.post(
        LIST_URL, {"action": "revoke_applications", "_selected_action": [first.pk]}
    )
    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.is_revoked
    assert not second.is_revoked
    assert "1 application(s) revoked." in messages_of(response)


def test_applications_cannot_be_deleted(staff_client):
    application = factories.ApplicationFactory.create()
    url = reverse("admin:oauth_application_delete", args=[application.pk])
    assert staff_client.get(url).status_code == 403
    assert staff_client.get(LIST_URL).status_code == 200
