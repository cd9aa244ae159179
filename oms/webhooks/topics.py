"""Every webhook topic this system publishes (Commerce Layer's names), with what fires it.

A webhook subscribes to one of these; each is also an `events` resource (`events_sync`), the
list a merchant picks from, with the webhooks listening to it and its latest callbacks."""

from __future__ import annotations

from oms.webhooks.outbox import RETURN_RESTOCK_TOPIC, RETURN_STATUS_TOPICS, SHIPMENT_STATUS_TOPICS

TOPICS: dict[str, str] = {
    "orders.place": "an order is placed",
    "orders.approve": "an order is approved",
    "orders.cancel": "an order is cancelled",
    "orders.pay": "an order's payment status becomes paid",
    "orders.refund": "an order is refunded",
    "orders.fulfill": "an order's fulfillment status becomes fulfilled",
    "authorizations.create": "a payment is authorized (or the attempt recorded)",
    "captures.create": "an authorization is captured",
    "voids.create": "an authorization is voided",
    "refunds.create": "a capture is refunded",
    "stock_items.update": "a stock item's quantity is adjusted",
    "gift_cards.purchase": "a draft gift card is purchased (inactive)",
    "gift_cards.activate": "a gift card becomes active",
    "gift_cards.deactivate": "a gift card is deactivated",
    "gift_cards.redeem": "a single-use gift card is redeemed by the order it paid",
    **{
        topic: f"a shipment becomes {status.replace('_', ' ')}"
        for status, topic in SHIPMENT_STATUS_TOPICS.items()
    },
    "returns.create": "a return is created (draft)",
    **{
        topic: f"a return becomes {status}"
        for status, topic in RETURN_STATUS_TOPICS.items()
        if status != "draft"
    },
    RETURN_RESTOCK_TOPIC: "a return's lines are put back in stock",
}
