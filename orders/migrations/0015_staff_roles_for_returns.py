"""The staff roles again, now that returns exist (fulfillment 0003): customer service and the
warehouse see and move returns."""

from django.db import migrations

from orders.migrations._roles import roles_create


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0014_returns"),
        ("fulfillment", "0003_returns"),
    ]

    operations = [migrations.RunPython(roles_create, migrations.RunPython.noop)]
