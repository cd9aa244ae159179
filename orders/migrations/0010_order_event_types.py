"""Typed timeline events (issue 12): each row says which kind of change it records. The rows
written before are typed by what they already hold (the subject and the field that moved)."""

from django.db import migrations, models

# (subject_type or None for any, field) -> event type, applied in order
BACKFILL = [
    ("orders", "status", "order_status_changed"),
    ("orders", "payment_status", "order_payment_status_changed"),
    ("orders", "fulfillment_status", "order_fulfillment_status_changed"),
    ("orders", "archived", "order_archived_changed"),
    ("orders", "note", "order_note_added"),
    ("shipments", None, "shipment_status_changed"),
]
TRANSACTIONS = ("authorizations", "captures", "voids", "refunds")


def types_backfill(apps, schema_editor):
    events = apps.get_model("orders", "OrderEvent").objects
    for subject_type, field, event_type in BACKFILL:
        rows = events.filter(subject_type=subject_type)
        if field is not None:
            rows = rows.filter(field=field)
        rows.update(event_type=event_type)
    events.filter(subject_type__in=TRANSACTIONS).update(event_type="transaction_settled")


class Migration(migrations.Migration):
    dependencies = [("orders", "0009_staff_roles_again")]

    operations = [
        migrations.AddField(
            model_name="orderevent",
            name="event_type",
            field=models.CharField(
                choices=[
                    ("order_status_changed", "Order Status Changed"),
                    ("order_payment_status_changed", "Order Payment Status Changed"),
                    ("order_fulfillment_status_changed", "Order Fulfillment Status Changed"),
                    ("order_archived_changed", "Order Archived Changed"),
                    ("order_note_added", "Order Note Added"),
                    ("transaction_settled", "Transaction Settled"),
                    ("shipment_status_changed", "Shipment Status Changed"),
                ],
                default="order_status_changed",
                max_length=40,
            ),
            preserve_default=False,
        ),
        migrations.RunPython(types_backfill, migrations.RunPython.noop),
    ]
