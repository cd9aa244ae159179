"""Every write to markets and the catalog goes through here."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from markets.errors import (
    OrganizationMissing,
    RegexInvalid,
    SkuListItemSkuTaken,
    SkuMissing,
    TaxCategoryTaken,
    TaxRateInvalid,
)
from markets.models import (
    REGEX_MAX_LENGTH,
    Market,
    Organization,
    Price,
    Sku,
    SkuList,
    SkuListItem,
    TaxCalculator,
    TaxCategory,
    TaxRule,
    new_shared_secret,
)
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


# --- taxes -------------------------------------------------------------------------------------


def tax_calculator_create(*, data: Mapping[str, Any]) -> TaxCalculator:
    """A manual tax calculator (the only kind there is: its rates are its tax rules)."""
    return resource_create(TaxCalculator, data)


def tax_calculator_update(
    *, tax_calculator: TaxCalculator, data: Mapping[str, Any]
) -> TaxCalculator:
    return resource_update(tax_calculator, data)


TAX_RATE_PLACES = Decimal("0.000001")  # the column's 6 decimal places
TAX_RULE_PATTERN_FIELDS = tuple(
    name for _, positive, negative in TaxRule.PATTERNS for name in (positive, negative)
)


def tax_rate_parse(value: Any) -> Decimal:
    """A rate between 0 and 1 as sent: Commerce Layer's clients send a float (0.22), read
    through its shortest decimal form so it is stored as 0.22 exactly, not as the binary
    float's 0.2200000000000000011."""
    pointer = "/data/attributes/tax_rate"
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise TaxRateInvalid(f"{value!r} is not a tax rate.", pointer=pointer)
    try:
        rate = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise TaxRateInvalid(f"{value!r} is not a number.", pointer=pointer) from None
    if not rate.is_finite() or not Decimal(0) <= rate <= Decimal(1):
        raise TaxRateInvalid(
            f"A tax rate is between 0 and 1 (0.22 is 22%), not {value}.", pointer=pointer
        )
    if rate != rate.quantize(TAX_RATE_PLACES):
        raise TaxRateInvalid(
            f"A tax rate has at most 6 decimal places: {value} has more.", pointer=pointer
        )
    return rate.normalize() if rate else Decimal(0)  # no "-0", no trailing zeros


def tax_rule_patterns_check(values: Mapping[str, Any]) -> None:
    """Each pattern given compiles and fits its column; checked before it is stored, since a
    broken one would otherwise fail only when an order's taxes are computed."""
    for name in TAX_RULE_PATTERN_FIELDS:
        pattern = values.get(name)
        if not pattern:
            continue
        pointer = f"/data/attributes/{name}"
        if len(pattern) > REGEX_MAX_LENGTH:
            raise RegexInvalid(
                f"{name} may be at most {REGEX_MAX_LENGTH} characters long.",
                code="REGEX_TOO_LONG",
                pointer=pointer,
            )
        try:
            re.compile(pattern)
        except re.error as exc:
            raise RegexInvalid(
                f"{name} is not a regular expression: {exc}.", pointer=pointer
            ) from None


def tax_rule_values(data: Mapping[str, Any]) -> dict[str, Any]:
    values = dict(data)
    if "tax_rate" in values:
        values["tax_rate"] = tax_rate_parse(values["tax_rate"])
    tax_rule_patterns_check(values)
    return values


def tax_rule_create(*, data: Mapping[str, Any]) -> TaxRule:
    values = tax_rule_values(data)
    values.setdefault("tax_rate", Decimal(0))  # Commerce Layer's default
    return resource_create(TaxRule, values)


def tax_rule_update(*, tax_rule: TaxRule, data: Mapping[str, Any]) -> TaxRule:
    return resource_update(tax_rule, tax_rule_values(data))


def tax_category_values(
    data: Mapping[str, Any], *, instance: TaxCategory | None = None
) -> dict[str, Any]:
    """A tax category names its SKU by relationship or by `sku_code`, like a price; a
    calculator has one per SKU (refused here with its own code, not left to the constraint)."""
    values = dict(data)
    sku_code = values.pop("sku_code", None)
    if sku_code and not values.get("sku"):
        values["sku"] = sku_find(code=sku_code)
    sku = values["sku"] if "sku" in values else getattr(instance, "sku", None)
    if sku is None:
        raise SkuMissing(
            "A tax category needs a SKU (relationship or sku_code).",
            pointer="/data/relationships/sku",
        )
    calculator_id = (
        values["tax_calculator"].pk
        if values.get("tax_calculator") is not None
        else getattr(instance, "tax_calculator_id", None)
    )
    taken = TaxCategory.objects.filter(tax_calculator_id=calculator_id, sku=sku)
    if instance is not None:
        taken = taken.exclude(pk=instance.pk)
    if calculator_id is not None and taken.exists():
        raise TaxCategoryTaken(
            f"The tax calculator already has a tax category for {sku.code}.",
            pointer="/data/relationships/sku",
        )
    return values


def tax_category_create(*, data: Mapping[str, Any]) -> TaxCategory:
    return resource_create(TaxCategory, tax_category_values(data))


def tax_category_update(*, tax_category: TaxCategory, data: Mapping[str, Any]) -> TaxCategory:
    return resource_update(tax_category, tax_category_values(data, instance=tax_category))


# --- SKU lists (what promotions and their rules target) --------------------------------------


def sku_list_save(*, sku_list: SkuList) -> SkuList:
    """Create or update a SKU list; its slug follows its name."""
    sku_list.slug = slugify(sku_list.name)[: SkuList._meta.get_field("slug").max_length]
    return resource_save(sku_list)


def sku_list_create(*, data: Mapping[str, Any]) -> SkuList:
    return sku_list_save(sku_list=SkuList(**data))


def sku_list_update(*, sku_list: SkuList, data: Mapping[str, Any]) -> SkuList:
    for field, value in data.items():
        setattr(sku_list, field, value)
    return sku_list_save(sku_list=sku_list)


def sku_list_item_save(*, sku_list_item: SkuListItem) -> SkuListItem:
    """A SKU is in a list once: a second item of it is refused (with a pointer), not left to
    the unique constraint's generic message."""
    item = sku_list_item
    if item.sku_id is None:
        raise SkuMissing(
            "A SKU list item needs a SKU (relationship or sku_code).",
            pointer="/data/relationships/sku",
        )
    if item.sku_list_id is not None:
        others = SkuListItem.objects.filter(sku_list_id=item.sku_list_id, sku_id=item.sku_id)
        if item.pk is not None:
            others = others.exclude(pk=item.pk)
        if others.exists():
            raise SkuListItemSkuTaken(
                f"{item.sku.code} is in this SKU list already.",
                pointer="/data/relationships/sku",
            )
    return resource_save(item)


def sku_list_item_create(*, data: Mapping[str, Any]) -> SkuListItem:
    """An item names its SKU by relationship or by `sku_code`."""
    values = dict(data)
    sku_code = values.pop("sku_code", None)
    if sku_code and values.get("sku") is None:
        values["sku"] = sku_find(code=sku_code)
    return sku_list_item_save(sku_list_item=SkuListItem(**values))


def sku_list_item_update(*, sku_list_item: SkuListItem, data: Mapping[str, Any]) -> SkuListItem:
    values = dict(data)
    sku_code = values.pop("sku_code", None)
    if sku_code:
        values["sku"] = sku_find(code=sku_code)
    for field, value in values.items():
        setattr(sku_list_item, field, value)
    return sku_list_item_save(sku_list_item=sku_list_item)
