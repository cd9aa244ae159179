"""Whatever arrives at /oauth/token, the answer is a 4xx OAuth error body, never a 500."""

from __future__ import annotations

import json

import pytest

from tests.oauth.conftest import TOKEN_URL, error_of

pytestmark = pytest.mark.django_db

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"", JSON, 400),
        (b"", "", 400),
        (b"null", JSON, 400),
        (b"[]", JSON, 400),
        (b'[{"grant_type": "client_credentials"}]', JSON, 400),
        (b'"client_credentials"', JSON, 400),
        (b"42", JSON, 400),
        (b"{", JSON, 400),
        (b"{'grant_type': 'client_credentials'}", JSON, 400),
        (b'{"grant_type": NaN}', JSON, 400),
        (b"[" * 100_000, JSON, 400),
        (b"\xff\xfe\x00garbage", JSON, 400),
        (b'{"grant_type": 1}', JSON, 400),
        (b'{"grant_type": ["client_credentials"]}', JSON, 400),
        (b'{"grant_type": {"a": 1}}', JSON, 400),
        (b'{"grant_type": true}', JSON, 400),
        (b'{"grant_type": "client_credentials", "client_id": 123}', JSON, 400),
        (b'{"grant_type": "client_credentials", "client_id": null}', JSON, 401),
        (b'{"grant_type": "client_credentials", "client_id": "a\\u0000b"}', JSON, 400),
        (b'{"grant_type": "client_credentials", "scope": ["market:all"]}', JSON, 400),
        (b'{"grant_type": "refresh_token", "client_id": "x", "refresh_token": 5}', JSON, 400),
        (b'{"grant_type": "\\u0000"}', JSON, 400),
        (b"{}", JSON, 400),
        (b"", FORM, 400),
        (b"%%%&&&===", FORM, 400),
        (b"grant_type=client_credentials&grant_type=password", FORM, 400),
        (b"grant_type=client_credentials&client_id=%00", FORM, 400),
        (b"grant_type=client_credentials&client_id=%FF%FE", FORM, 401),
        (b"\xff\xfe\x00", FORM, 400),
        (b"grant_type=client_credentials", "text/plain", 415),
        (b"<xml/>", "application/xml", 415),
        (b"--x\r\n\r\n--x--", "multipart/form-data; boundary=x", 415),
        (b'{"grant_type": "client_credentials"}', "application/json; charset=bogus", 401),
    ],
)
def test_garbage_gets_an_oauth_error_not_a_500(client, organization, body, content_type, status):
    response = client.generic("POST", TOKEN_URL, body, content_type=content_type)
    assert response.status_code == status, response.content
    assert error_of(response) in {"invalid_request", "invalid_client"}


def test_an_overlong_parameter_is_refused(client, organization):
    body = {"grant_type": "client_credentials", "scope": "market:code:eu " * 1000}
    response = client.post(TOKEN_URL, json.dumps(body), content_type=JSON)
    assert response.status_code == 400
    assert error_of(response) == "invalid_request"


def test_a_body_over_the_upload_limit_is_refused(client, organization, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    body = {"grant_type": "client_credentials", "client_id": "x" * 500}
    response = client.post(TOKEN_URL, json.dumps(body), content_type=JSON)
    assert response.status_code == 400
    assert error_of(response) == "invalid_request"


def test_too_many_form_fields_are_refused(client, organization, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    body = "&".join(f"f{i}=v" for i in range(20))
    response = client.post(TOKEN_URL, body, content_type=FORM)
    assert response.status_code == 400
    assert error_of(response) == "invalid_request"


def test_a_bearer_header_on_the_token_endpoint_is_ignored(client, organization):
    response = client.post(
        TOKEN_URL,
        json.dumps({"grant_type": "client_credentials", "client_id": "nope"}),
        content_type=JSON,
        headers={"Authorization": "Bearer not-a-token"},
    )
    assert response.status_code == 401
    assert error_of(response) == "invalid_client"
