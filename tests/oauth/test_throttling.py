"""The token endpoint is rate limited per client_id and per IP address (429 + Retry-After)."""

from __future__ import annotations

import pytest

from oms.oauth.models import Application
from tests import factories
from tests.oauth.conftest import error_of, post_json

pytestmark = pytest.mark.django_db


def ask(client, application: Application, ip: str = "10.0.0.1"):
    return client.post(
        "/oauth/token",
        {
            "grant_type": "client_credentials",
            "client_id": application.client_id,
            "scope": "market:code:eu",
        },
        content_type="application/json",
        REMOTE_ADDR=ip,
    )


def test_a_client_over_its_rate_gets_429_and_others_do_not(client, market, settings):
    settings.OMS_TOKEN_RATE_PER_CLIENT = "2/min"
    busy, quiet = factories.ApplicationFactory.create(), factories.ApplicationFactory.create()
    assert [ask(client, busy).status_code for _ in range(2)] == [200, 200]

    throttled = ask(client, busy)
    assert throttled.status_code == 429
    assert error_of(throttled) == "too_many_requests"
    assert throttled.json()["errors"][0]["code"] == "TOO_MANY_REQUESTS"
    assert 1 <= int(throttled["Retry-After"]) <= 60

    assert ask(client, busy, ip="10.0.0.2").status_code == 429, "the client limit follows the id"
    assert ask(client, quiet).status_code == 200


def test_an_ip_over_its_rate_gets_429_and_other_ips_do_not(client, market, settings):
    settings.OMS_TOKEN_RATE_PER_IP = "3/min"
    applications = [factories.ApplicationFactory.create() for _ in range(4)]
    assert [ask(client, app).status_code for app in applications[:3]] == [200, 200, 200]

    throttled = ask(client, applications[3])
    assert throttled.status_code == 429
    assert int(throttled["Retry-After"]) >= 1
    assert ask(client, applications[3], ip="10.0.0.9").status_code == 200


def test_failed_requests_count_too(client, organization, settings):
    settings.OMS_TOKEN_RATE_PER_CLIENT = "2/min"
    body = {"grant_type": "client_credentials", "client_id": "guessing"}
    assert [post_json(client, body).status_code for _ in range(2)] == [401, 401]
    assert post_json(client, body).status_code == 429


def test_unreadable_bodies_still_count_against_the_ip(client, organization, settings):
    settings.OMS_TOKEN_RATE_PER_IP = "2/min"
    for _ in range(2):
        assert client.post("/oauth/token", "{", content_type="application/json").status_code == 400
    assert client.post("/oauth/token", "{", content_type="application/json").status_code == 429


def test_forwarded_for_header_does_not_dodge_the_ip_limit(client, market, settings):
    settings.OMS_TOKEN_RATE_PER_IP = "1/min"
    first, second = factories.ApplicationFactory.create(), factories.ApplicationFactory.create()
    assert ask(client, first).status_code == 200
    response = client.post(
        "/oauth/token",
        {"grant_type": "client_credentials", "client_id": second.client_id},
        content_type="application/json",
        REMOTE_ADDR="10.0.0.1",
        headers={"X-Forwarded-For": "203.0.113.7"},
    )
    assert response.status_code == 429


def test_an_empty_rate_disables_the_limit(client, market, settings):
    settings.OMS_TOKEN_RATE_PER_CLIENT = ""
    settings.OMS_TOKEN_RATE_PER_IP = ""
    application = factories.ApplicationFactory.create()
    assert {ask(client, application).status_code for _ in range(5)} == {200}
