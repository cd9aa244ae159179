"""Stable error codes of the fulfillment app: what the API answers (422) and the admin shows."""

from __future__ import annotations

from oms.errors import DomainError, TransitionNotAllowed

__all__ = [
    "AlreadyRestocked",
    "FulfillmentNotInProgress",
    "InventoryModelMissing",
    "InventoryStrategyNotSupported",
    "NoShippingMethod",
    "OutOfStock",
    "ReturnEmpty",
    "ReturnNotAllowed",
    "ReturnNotEditable",
    "ReturnQuantityExceeded",
    "ReturnRefundInProgress",
    "ShipmentNotEditable",
    "ShipmentsNotDraft",
    "ShippingMethodNotAvailable",
    "StockAdjustmentInvalid",
    "StockBelowReserved",
    "TransitionNotAllowed",
]


class OutOfStock(DomainError):
    """A tracked SKU has not enough available stock for a line item (nothing was reserved)."""

    code = "OUT_OF_STOCK"

    def __init__(
        self,
        detail: str,
        *,
        line_item_id: str | None = None,
        sku_code: str = "",
        pointer: str | None = None,
    ):
        if pointer is None and line_item_id is not None:
            pointer = f"/data/relationships/line_items/{line_item_id}"
        super().__init__(detail, pointer=pointer)
        self.line_item_id = line_item_id
        self.sku_code = sku_code


class StockAdjustmentInvalid(DomainError):
    """A stock adjustment without a reason, or one that moves nothing."""

    code = "STOCK_ADJUSTMENT_INVALID"


class StockBelowReserved(DomainError):
    """A stock item's quantity would drop below what is reserved, or below zero."""

    code = "STOCK_BELOW_RESERVED"


class InventoryModelMissing(DomainError):
    """The order's market has no inventory model, so there is no stock to ship from."""

    code = "INVENTORY_MODEL_MISSING"


class InventoryStrategyNotSupported(DomainError):
    """The inventory model's strategy is not implemented yet."""

    code = "INVENTORY_STRATEGY_NOT_SUPPORTED"


class FulfillmentNotInProgress(DomainError):
    """Picking and later steps need the order's fulfillment_status to be in_progress."""

    code = "FULFILLMENT_NOT_IN_PROGRESS"


class ShipmentsNotDraft(DomainError):
    """The order's shipments have left draft: they can no longer be rebuilt."""

    code = "SHIPMENTS_NOT_DRAFT"


class ShipmentNotEditable(DomainError):
    """The shipment is past the point where its shipping method may change."""

    code = "SHIPMENT_NOT_EDITABLE"


class ShippingMethodNotAvailable(DomainError):
    """The chosen shipping method does not serve this shipment (market, zone, category,
    stock location, weight, currency, or it is disabled)."""

    code = "SHIPPING_METHOD_NOT_AVAILABLE"


class NoShippingMethod(DomainError):
    """A shipment has no shipping method, or its method is no longer available."""

    code = "NO_SHIPPING_METHOD"


class ReturnNotAllowed(DomainError):
    """The order cannot have a return: it is not fulfilled (only fulfilled orders can)."""

    code = "RETURN_NOT_ALLOWED"


class ReturnNotEditable(DomainError):
    """The return's lines are set: they change only while the return is a draft."""

    code = "RETURN_NOT_EDITABLE"


class ReturnQuantityExceeded(DomainError):
    """More units than were shipped and not already claimed by another return."""

    code = "RETURN_QUANTITY_EXCEEDED"


class ReturnEmpty(DomainError):
    """A return without lines cannot be requested."""

    code = "RETURN_EMPTY"


class AlreadyRestocked(DomainError):
    """The return line's units were put back on the shelf already."""

    code = "ALREADY_RESTOCKED"


class ReturnRefundInProgress(DomainError):
    """The return has a refund, pending at the gateway or done: it is not refunded twice."""

    code = "RETURN_REFUND_IN_PROGRESS"
