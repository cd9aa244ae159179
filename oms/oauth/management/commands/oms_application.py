"""Create, list and revoke API applications from the shell.

python manage.py oms_application create --kind integration --name ERP --role admin --json
python manage.py oms_application create --kind sales_channel --name Shop --market eu
python manage.py oms_application list [--json]
python manage.py oms_application revoke CLIENT_ID   (an older id starting with "-": revoke -- CLIENT_ID)
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from markets.models import Market
from oms.oauth import services
from oms.oauth.models import Application


class Command(BaseCommand):
    help = "Create, list and revoke API applications (sales channels and integrations)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, parser_class=CommandParser)

        create = actions.add_parser(
            "create", help="Create an application and print its credentials."
        )
        create.add_argument("--kind", required=True, choices=Application.Kind.values)
        create.add_argument("--name", required=True)
        create.add_argument("--role", choices=Application.Role.values, default="")
        create.add_argument("--market", metavar="CODE", help="Tie the application to this market.")
        create.add_argument("--json", action="store_true", help="Print the credentials as JSON.")

        listing = actions.add_parser("list", help="List the applications.")
        listing.add_argument("--json", action="store_true", help="Print a JSON array.")

        revoke = actions.add_parser(
            "revoke", help="Revoke an application: its tokens stop working."
        )
        revoke.add_argument("client_id")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            self.create(options)
        elif action == "list":
            self.list(as_json=options["json"])
        else:
            self.revoke(options["client_id"])

    def create(self, options: dict[str, Any]) -> None:
        kind, role, name = options["kind"], options["role"], options["name"].strip()
        if not name:
            raise CommandError("--name cannot be empty.")
        if kind == Application.Kind.SALES_CHANNEL and role:
            raise CommandError("A sales channel has no role: leave out --role.")
        if kind == Application.Kind.INTEGRATION and not role:
            raise CommandError("An integration needs --role admin or --role read_only.")
        market = None
        if options["market"]:
            market = Market.objects.filter(code=options["market"]).first()
            if market is None:
                raise CommandError(f"No market has the code {options['market']!r}.")
        try:
            credentials = services.application_create(
                name=name, kind=kind, role=role, market=market
            )
        except ValidationError as exc:
            raise CommandError(one_line(exc)) from exc
        application = credentials.application
        data = {
            "id": application.pk,
            "name": application.name,
            "kind": application.kind,
            "role": application.role or None,
            "market": market.code if market else None,
            "client_id": application.client_id,
            "client_secret": credentials.client_secret,
        }
        if options["json"]:
            self.stdout.write(json.dumps(data, indent=2))
            return
        for key, value in data.items():
            if value is not None:
                self.stdout.write(f"{key}: {value}")
        if credentials.client_secret:
            self.stdout.write(
                self.style.WARNING("Store the client secret now: it will not be shown again.")
            )

    def list(self, *, as_json: bool) -> None:
        applications = Application.objects.select_related("market").order_by("created_at", "id")
        rows = [
            {
                "id": application.pk,
                "name": application.name,
                "kind": application.kind,
                "role": application.role or None,
                "market": application.market.code if application.market else None,
                "client_id": application.client_id,
                "revoked_at": application.revoked_at.isoformat()
                if application.revoked_at
                else None,
                "created_at": application.created_at.isoformat(),
            }
            for application in applications
        ]
        if as_json:
            self.stdout.write(json.dumps(rows, indent=2))
            return
        if not rows:
            self.stdout.write("No applications.")
        for row in rows:
            status = f"revoked {row['revoked_at']}" if row["revoked_at"] else "active"
            role = f"/{row['role']}" if row["role"] else ""
            market = f" market={row['market']}" if row["market"] else ""
            self.stdout.write(
                f"{row['client_id']}  {row['kind']}{role}{market}  {row['name']}  ({status})"
            )

    def revoke(self, client_id: str) -> None:
        application = Application.objects.filter(client_id=client_id).first()
        if application is None:
            raise CommandError(f"No application has the client_id {client_id!r}.")
        was_revoked = application.is_revoked
        services.application_revoke(application=application)
        if was_revoked:
            self.stdout.write(f"{application.name} was already revoked.")
        else:
            self.stdout.write(self.style.SUCCESS(f"Revoked {application.name} ({client_id})."))


def one_line(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return " ".join(
            " ".join(messages) if field == NON_FIELD_ERRORS else f"{field}: {' '.join(messages)}"
            for field, messages in exc.message_dict.items()
        )
    return " ".join(exc.messages)
