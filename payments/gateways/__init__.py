"""Gateway adapters behind one interface (`base.PaymentGatewayAdapter`), chosen by gateway type.

A new gateway (Stripe, Adyen, ...) is a new adapter class, a new `PaymentGateway.Type` value
and an entry here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from payments.gateways.base import AdapterFactory, GatewayResult, PaymentGatewayAdapter
from payments.gateways.external import ExternalGateway
from payments.gateways.manual import ManualGateway
from payments.gateways.test import TestGateway

if TYPE_CHECKING:
    from payments.models import PaymentGateway

ADAPTERS: dict[str, AdapterFactory] = {
    "manual": ManualGateway,
    "external": ExternalGateway,
    "test": TestGateway,
}


def gateway_adapter_for(gateway: PaymentGateway) -> PaymentGatewayAdapter:
    return ADAPTERS[gateway.type](gateway)


__all__ = ["ADAPTERS", "GatewayResult", "PaymentGatewayAdapter", "gateway_adapter_for"]
