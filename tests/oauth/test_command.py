"""`manage.py oms_application`: create, list, revoke; bad input exits non-zero with a reason."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections

from markets.services import market_disable
from oms.oauth.management.commands.oms_application import Command
from oms.oauth.models import Application, new_client_id
from oms.oauth.services import client_secret_matches
from tests import factories
from tests.oauth.conftest import post_json

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("oms_application", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def shell(capsys: Any, monkeypatch: Any) -> Any:
    """Runs the command as `python manage.py oms_application ...` would; returns exit status and
    stderr. run_from_argv closes the connections when done, which would end the test's
    transaction, so that step is skipped."""
    monkeypatch.setattr(connections, "close_all", lambda: None)

    def run_from_shell(*args: str) -> tuple[int, str]:
        with pytest.raises(SystemExit) as exc:
            Command().run_from_argv(["manage.py", "oms_application", *args])
        code = exc.value.code
        return (code if isinstance(code, int) else 1), capsys.readouterr().err

    return run_from_shell


def test_create_integration_prints_working_credentials_as_json(client, organization):
    data = json.loads(
        run("create", "--kind", "integration", "--name", "ERP", "--role", "admin", "--json")
    )
    assert set(data) == {"id", "name", "kind", "role", "market", "client_id", "client_secret"}
    assert data["kind"] == "integration"
    assert data["role"] == "admin"
    assert data["market"] is None
    application = Application.objects.get(client_id=data["client_id"])
    assert client_secret_matches(data["client_secret"], application.client_secret_hash)
    response = post_json(
        client,
        {
            "grant_type": "client_credentials",
            "client_id": data["client_id"],
            "client_secret": data["client_secret"],
        },
    )
    assert response.status_code == 200


def test_create_sales_channel_for_a_market(market):
    data = json.loads(
        run("create", "--kind", "sales_channel", "--name", "Shop", "--market", "eu", "--json")
    )
    assert data["client_secret"] is None
    assert data["role"] is None
    assert data["market"] == "eu"
    assert Application.objects.get(client_id=data["client_id"]).market == market


def test_create_without_json_prints_the_secret_once_with_a_warning(organization):
    out = run("create", "--kind", "integration", "--name", "ERP", "--role", "read_only")
    assert "client_secret: " in out
    assert "will not be shown again" in out


def test_list_shows_every_application(organization):
    active = factories.ApplicationFactory.create(name="Shop")
    revoked = factories.ApplicationFactory.create(name="Old shop")
    run("revoke", revoked.client_id)
    rows = json.loads(run("list", "--json"))
    assert [row["client_id"] for row in rows] == [active.client_id, revoked.client_id]
    assert rows[0]["revoked_at"] is None
    assert rows[1]["revoked_at"] is not None
    assert "client_secret" not in rows[0]
    text = run("list")
    assert active.client_id in text
    assert "revoked" in text


def test_list_with_no_applications(db):
    assert json.loads(run("list", "--json")) == []
    assert "No applications." in run("list")


def test_revoke_stops_the_application(organization):
    application = factories.ApplicationFactory.create(name="Shop")
    assert "Revoked Shop" in run("revoke", application.client_id)
    application.refresh_from_db()
    assert application.is_revoked
    assert "already revoked" in run("revoke", application.client_id)


def test_new_client_ids_never_start_like_an_option():
    # token_urlsafe starts with "-" one time in 64: such an id read as an option on the command
    # line, and `oms_application revoke <id>` failed (it did in CI).
    assert all(new_client_id()[0].isalnum() for _ in range(2000))


def test_an_older_client_id_starting_with_a_dash_is_revoked_after_double_dash(organization):
    application = factories.ApplicationFactory.create(name="Old")
    Application.objects.filter(pk=application.pk).update(client_id="-" + "a" * 42)
    application.refresh_from_db()
    assert "Revoked Old" in run("revoke", "--", application.client_id)
    application.refresh_from_db()
    assert application.is_revoked


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["create", "--kind", "sales_channel", "--name", "S", "--market", "mars"],
            "No market has the code 'mars'.",
        ),
        (
            ["create", "--kind", "sales_channel", "--name", "S", "--role", "admin"],
            "A sales channel has no role: leave out --role.",
        ),
        (
            ["create", "--kind", "integration", "--name", "ERP"],
            "An integration needs --role admin or --role read_only.",
        ),
        (["create", "--kind", "sales_channel", "--name", "  "], "--name cannot be empty."),
        (["revoke", "no-such-client"], "No application has the client_id 'no-such-client'."),
    ],
)
def test_bad_input_is_a_command_error_with_exit_status_1(organization, shell, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("oms_application", *args)
    status, err = shell(*args)
    assert status == 1
    assert err.strip() == f"CommandError: {message}"
    assert not Application.objects.exists()


def test_a_disabled_market_is_refused(market, shell):
    market_disable(market=market)
    args = ["create", "--kind", "sales_channel", "--name", "S", "--market", "eu"]
    status, err = shell(*args)
    assert status == 1
    assert err.strip() == "CommandError: market: The market 'eu' is disabled."


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create", "--kind", "robot", "--name", "R"], "argument --kind: invalid choice"),
        (["create", "--kind", "integration", "--name", "R", "--role", "god"], "--role: invalid"),
        (["create", "--name", "R"], "the following arguments are required: --kind"),
        (["create", "--kind", "sales_channel"], "the following arguments are required: --name"),
        (["revoke"], "the following arguments are required: client_id"),
        (["destroy"], "invalid choice: 'destroy'"),
        ([], "the following arguments are required: action"),
    ],
)
def test_bad_arguments_exit_with_status_2(organization, shell, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("oms_application", *args)
    status, err = shell(*args)
    assert status == 2
    assert message in err
