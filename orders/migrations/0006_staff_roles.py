"""The staff roles of the back office (issue 9), as groups: give a user a group, not
permissions one by one. The admin shows each role only its pages and buttons; the admin's
action views refuse (403) what the role lacks even when the URL is typed by hand."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

APPS = ("orders", "markets", "payments", "fulfillment", "oauth", "oms")

ROLES: dict[str, list[str]] = {
    # Everything of the business (the staff users themselves stay with superusers).
    "Merchant admin": ["*"],
    "Customer service": [
        "orders.view_order",
        "orders.cancel_order",
        "orders.refund_order",
        "orders.note_order",
        "orders.view_lineitem",
        "orders.view_orderevent",
        "orders.view_customer",
        "orders.add_customer",
        "orders.change_customer",
        "orders.view_customeraddress",
        "orders.add_customeraddress",
        "orders.change_customeraddress",
        "payments.view_transaction",
        "fulfillment.view_shipment",
        "fulfillment.view_parcel",
        "markets.view_sku",
        "markets.view_price",
        "markets.view_market",
        "markets.view_address",
    ],
    "Warehouse": [
        "orders.view_order",
        "orders.view_lineitem",
        "orders.view_orderevent",
        "fulfillment.view_shipment",
        "fulfillment.change_shipment",
        "fulfillment.view_parcel",
        "fulfillment.add_parcel",
        "fulfillment.change_parcel",
        "fulfillment.view_stockitem",
        "fulfillment.change_stockitem",
        "fulfillment.view_stocklocation",
        "fulfillment.view_stockreservation",
        "fulfillment.view_inventorymodel",
        "fulfillment.view_shippingmethod",
        "markets.view_sku",
        "markets.view_address",
    ],
    "Read only": ["view_*"],
}


def roles_create(apps, schema_editor):
    # The permissions of the models are made after the last migration (post_migrate): make
    # them now, so the groups can hold them on a fresh database.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ours = Permission.objects.filter(content_type__app_label__in=APPS)
    for name, wanted in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        if wanted == ["*"]:
            permissions = list(ours)
        elif wanted == ["view_*"]:
            permissions = list(ours.filter(codename__startswith="view_"))
        else:
            permissions = []
            for dotted in wanted:
                app_label, codename = dotted.split(".")
                permissions.append(
                    Permission.objects.get(content_type__app_label=app_label, codename=codename)
                )
        group.permissions.set(permissions)


def roles_delete(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=list(ROLES)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("orders", "0004_customer_password"),
        ("markets", "0002_market_inventory_model"),
        ("payments", "0002_paymentgateway_lookup_url"),
        ("fulfillment", "0001_initial"),
        ("oauth", "0001_initial"),
        ("oms", "0003_idempotency_key_per_customer"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="order",
            options={
                "ordering": ("-created_at", "id"),
                "permissions": [
                    ("approve_order", "Can approve orders"),
                    ("capture_order", "Can capture and void the payment of orders"),
                    ("refund_order", "Can refund orders"),
                    ("cancel_order", "Can cancel orders"),
                    ("archive_order", "Can archive orders"),
                    ("note_order", "Can add staff notes to orders"),
                ],
            },
        ),
        migrations.RunPython(roles_create, roles_delete),
    ]
