"""The staff roles again, now that promotions, coupons, gift cards, SKU lists and the tax
calculators exist (0011 and markets 0003): the earlier role migrations could only give the
roles the permissions of the models made before them."""

from django.db import migrations

from orders.migrations._roles import roles_create


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0011_promotions_taxes_gift_cards"),
        ("markets", "0003_sku_lists_taxes"),
    ]

    operations = [migrations.RunPython(roles_create, migrations.RunPython.noop)]
