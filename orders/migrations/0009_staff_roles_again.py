"""The staff roles again, now that the wallet (0007), the saved filters (0008) and the stock
history and the webhooks exist: `0006_staff_roles` could only give the roles the permissions of the models
made before it, so *Merchant admin* and *Read only* lacked the newer ones."""

from django.db import migrations

from orders.migrations._roles import roles_create


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0008_saved_order_filters"),
        ("fulfillment", "0002_stock_adjustments"),
        ("webhooks", "0001_initial"),
    ]

    operations = [migrations.RunPython(roles_create, migrations.RunPython.noop)]
