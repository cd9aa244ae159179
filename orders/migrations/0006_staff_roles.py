"""The staff roles of the back office (issue 9), as groups: give a user a group, not
permissions one by one. The admin shows each role only its pages and buttons; the admin's
action views refuse (403) what the role lacks even when the URL is typed by hand."""

from django.db import migrations

from orders.migrations._roles import roles_create, roles_delete


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("orders", "0005_order_list_indexes"),
        ("markets", "0002_market_inventory_model"),
        ("payments", "0002_paymentgateway_lookup_url"),
        ("fulfillment", "0002_stock_adjustments"),
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
