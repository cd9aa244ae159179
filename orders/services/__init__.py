"""Every write of the orders app. The API, the admin, commands and tasks call these.

| module | holds |
|---|---|
| `customers` | find-or-create by e-mail, the orders count and status, address books |
| `orders` | carts: create, update (customer, addresses), totals, draft ↔ pending, `_refresh` |
| `line_items` | SKU lines and charge lines (shipping costs, payment fees) |
| `pipeline` | the one recompute pipeline: reprice → shipments → charges → … → totals |
| `placement` | `_place`, `place_async` (and its task) |
| `transitions` | `_pending`, `_cancel`, `_approve`, `_start_editing`, `_archive`, `_refund`, … |
| `money` | every money movement: reserve under the order lock → gateway → settle |
| `statuses` | the one writer of `payment_status` and `fulfillment_status` |
| `checkout` | the payment source, shipping methods, shipment triggers |
"""

from __future__ import annotations

from collections.abc import Callable

from oms.actors import Actor
from orders.errors import InvalidAttribute, attribute
from orders.models import Order
from orders.services.checkout import (
    order_shipment_ship,
    order_shipment_shipping_method_set,
    order_shipment_trigger,
    payment_source_of,
)
from orders.services.customers import (
    customer_address_create,
    customer_address_delete,
    customer_create,
    customer_find_or_create,
    customer_order_placed,
    customer_save,
    customer_update,
)
from orders.services.line_items import (
    line_item_charge_remove,
    line_item_charge_set,
    line_item_create,
    line_item_delete,
    line_item_update,
)
from orders.services.money import (
    order_authorization_capture,
    order_authorization_void,
    order_capture,
    order_capture_refund,
    order_payment_authorize,
    order_transaction_forward,
    order_transaction_release,
)
from orders.services.orders import (
    order_create,
    order_draft_purge,
    order_drafts_purge,
    order_note_add,
    order_refresh,
    order_update,
    order_update_taxes,
)
from orders.services.placement import order_place, order_place_async, order_place_complete
from orders.services.transitions import (
    order_approve,
    order_approve_and_capture,
    order_archive,
    order_cancel,
    order_fulfill,
    order_pending,
    order_refund,
    order_start_editing,
    order_stop_editing,
    order_unarchive,
)

# The order's trigger attributes (as sent with PATCH) and the service each one runs.
ORDER_TRIGGERS: dict[str, Callable[..., Order]] = {
    "_pending": order_pending,
    "_place": order_place,
    "_cancel": order_cancel,
    "_approve": order_approve,
    "_approve_and_capture": order_approve_and_capture,
    "_start_editing": order_start_editing,
    "_stop_editing": order_stop_editing,
    "_archive": order_archive,
    "_unarchive": order_unarchive,
    "_refresh": order_refresh,
    "_update_taxes": order_update_taxes,
    "_fulfill": order_fulfill,
    "_refund": order_refund,
    "_capture": order_capture,
}


def order_trigger(*, order: Order, actor: Actor, trigger: str) -> Order:
    """Run the service of one trigger attribute, e.g. `order_trigger(..., trigger="_place")`."""
    service = ORDER_TRIGGERS.get(trigger)
    if service is None:
        raise InvalidAttribute(f"{trigger} is not a trigger of orders.", pointer=attribute(trigger))
    return service(order=order, actor=actor)


__all__ = [
    "ORDER_TRIGGERS",
    "customer_address_create",
    "customer_address_delete",
    "customer_create",
    "customer_find_or_create",
    "customer_order_placed",
    "customer_save",
    "customer_update",
    "line_item_charge_remove",
    "line_item_charge_set",
    "line_item_create",
    "line_item_delete",
    "line_item_update",
    "order_approve",
    "order_approve_and_capture",
    "order_archive",
    "order_authorization_capture",
    "order_authorization_void",
    "order_cancel",
    "order_capture",
    "order_capture_refund",
    "order_create",
    "order_draft_purge",
    "order_drafts_purge",
    "order_fulfill",
    "order_note_add",
    "order_payment_authorize",
    "order_pending",
    "order_place",
    "order_place_async",
    "order_place_complete",
    "order_refresh",
    "order_refund",
    "order_shipment_ship",
    "order_shipment_shipping_method_set",
    "order_shipment_trigger",
    "order_start_editing",
    "order_stop_editing",
    "order_transaction_forward",
    "order_transaction_release",
    "order_trigger",
    "order_unarchive",
    "order_update",
    "order_update_taxes",
    "payment_source_of",
]
