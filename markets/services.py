"""Every write to markets and the catalog goes through here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from markets.errors import OrganizationMissing
from markets.models import Market, Organization, Price, Sku, new_shared_secret
from oms.sequences import sequence_next
from oms.services import resource_create, resource_save, resource_update


def organization_get() -> Organization:
    organization = Organization.objects.first()
    if organization is None:
        raise OrganizationMissing(
            "No organization is set up yet: run `python manage.py seed_demo` or create one in the admin."
        )
    return organization


def market_save(*, market: Market) -> Market:
    """Create or update a market; a new market takes the next `number`."""
    with transaction.atomic():
        if market.number is None:
            market.number = sequence_next("market_number")
        return resource_save(market)


def market_create(*, data: Mapping[str, Any]) -> Market:
    return market_save(market=Market(**data))


def market_disable(*, market: Market) -> Market:
    with transaction.atomic():
        locked = Market.objects.select_for_update().get(pk=market.pk)
        if locked.disabled_at is None:
            locked.disabled_at = timezone.now()
            locked.save(update_fields=["disabled_at", "updated_at"])
    return locked


def market_enable(*, market: Market) -> Market:
    with transaction.atomic():
        locked = Market.objects.select_for_update().get(pk=market.pk)
        if locked.disabled_at is not None:
            locked.disabled_at = None
            locked.save(update_fields=["disabled_at", "updated_at"])
    return locked


def market_regenerate_shared_secret(*, market: Market) -> Market:
    with transaction.atomic():
        locked = Market.objects.select_for_update().get(pk=market.pk)
        locked.shared_secret = new_shared_secret()
        locked.save(update_fields=["shared_secret", "updated_at"])
    return locked


def sku_find(*, code: str, field: str = "sku_code") -> Sku:
    try:
        return Sku.objects.get(code=code)
    except Sku.DoesNotExist:
        raise ValidationError({field: f"No SKU has the code {code!r}."}) from None


def price_create(*, data: Mapping[str, Any]) -> Price:
    """A price names its SKU by relationship or by `sku_code`."""
    values = dict(data)
    sku_code = values.pop("sku_code", None)
    if sku_code and "sku" not in values:
        values["sku"] = sku_find(code=sku_code)
    return resource_create(Price, values)


def price_update(*, price: Price, data: Mapping[str, Any]) -> Price:
    values = dict(data)
    sku_code = values.pop("sku_code", None)
    if sku_code:
        values["sku"] = sku_find(code=sku_code)
    return resource_update(price, values)
