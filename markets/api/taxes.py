"""Tax calculators, their tax rules and the SKUs' tax categories (back office only).

One table, `TaxCalculator`, is served twice as Commerce Layer does: `tax_calculators` lists every
calculator whatever its kind (read only), `manual_tax_calculators` is the typed resource written
through. Manual is the only kind there is, so the relationships that Commerce Layer declares
polymorphic over the kinds (a market's, a tax category's `tax_calculator`) are plain
`manual_tax_calculators` ones here.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import Model, QuerySet
from rest_framework import serializers

from markets import services
from markets.models import TaxCalculator, TaxCategory, TaxRule
from oms.api.permissions import BACK_OFFICE, READ, Policy
from oms.api.principal import Principal
from oms.api.serializers import Relationship, ResourceSerializer, TypedMethodField
from oms.api.views import ResourceViewSet, fields


class TaxCalculatorSerializer(ResourceSerializer):
    _reserved_field_names = {"meta", "results"}
    relationships = {"markets": Relationship("markets", many=True, reverse="tax_calculator")}
    type = TypedMethodField({"type": "string", "enum": [TaxCalculator.Type.MANUAL.value]})

    class Meta:
        model = TaxCalculator
        resource_name = "tax_calculators"
        fields: tuple[str, ...] = ("name", "type")
        creatable: tuple[str, ...] = ()
        updatable: tuple[str, ...] = ()

    def get_type(self, instance: TaxCalculator) -> str:
        return instance.type


class ManualTaxCalculatorSerializer(TaxCalculatorSerializer):
    relationships = {
        "markets": Relationship("markets", many=True, reverse="tax_calculator"),
        "tax_rules": Relationship("tax_rules", many=True, reverse="manual_tax_calculator"),
    }

    class Meta(TaxCalculatorSerializer.Meta):
        resource_name = "manual_tax_calculators"
        creatable = ("name",)
        updatable = ("name",)


class TaxRateField(serializers.FloatField):
    """`tax_rate`: rendered as a float (0.22) as Commerce Layer does; taken as sent (a number
    or a numeric string) for `services.tax_rate_parse` to check and store exactly."""

    def to_internal_value(self, data: Any) -> Any:
        return data

    def to_representation(self, value: Any) -> float:  # type: ignore[override]
        return float(value)


TAX_RULE_PATTERNS = services.TAX_RULE_PATTERN_FIELDS
TAX_RULE_WRITABLE = (
    "name",
    "tax_rate",
    "freight_taxable",
    "payment_method_taxable",
    "gift_card_taxable",
    "adjustment_taxable",
    *TAX_RULE_PATTERNS,
)


class TaxRuleSerializer(ResourceSerializer):
    relationships = {
        "manual_tax_calculator": Relationship(
            "manual_tax_calculators", writable="both", required=True
        )
    }
    # the patterns are checked by the service (stable codes), not by the model's validators
    computed_fields: ClassVar[dict[str, serializers.Field]] = {
        name: serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
        for name in TAX_RULE_PATTERNS
    }
    tax_rate = TaxRateField(required=False)
    # Commerce Layer's per-line breakdown of a calculated rule; a manual rule has none
    breakdown = TypedMethodField({"type": "object", "nullable": True, "additionalProperties": True})

    class Meta:
        model = TaxRule
        resource_name = "tax_rules"
        fields = (
            "name",
            "tax_rate",
            "freight_taxable",
            "payment_method_taxable",
            "gift_card_taxable",
            "adjustment_taxable",
            "breakdown",
        )
        creatable = (*TAX_RULE_WRITABLE, "manual_tax_calculator")
        updatable = creatable

    def get_breakdown(self, instance: TaxRule) -> dict[str, Any] | None:
        return None


class TaxCategorySerializer(ResourceSerializer):
    relationships = {
        "sku": Relationship("skus", writable="both"),
        "tax_calculator": Relationship("manual_tax_calculators", writable="create", required=True),
    }
    sku_code = serializers.CharField(required=False, max_length=255)

    class Meta:
        model = TaxCategory
        resource_name = "tax_categories"
        select_related = ("sku",)
        fields = ("code", "sku_code")
        creatable = ("code", "sku_code", "sku", "tax_calculator")
        updatable = ("code", "sku_code", "sku")


class TaxCalculatorView(ResourceViewSet):
    """Every tax calculator, whatever its kind (read only: write through the typed endpoint)."""

    resource_name = "tax_calculators"
    serializer_class = TaxCalculatorSerializer
    policy = Policy(read_only=READ, admin=READ)
    filterable = fields("name", "type")
    sortable = fields("name", "type")
    calculator_type: ClassVar[str | None] = None

    def scope_queryset(self, queryset: QuerySet[Any], principal: Principal) -> QuerySet[Any]:
        return queryset.filter(type=self.calculator_type) if self.calculator_type else queryset


class ManualTaxCalculatorView(TaxCalculatorView):
    resource_name = "manual_tax_calculators"
    serializer_class = ManualTaxCalculatorSerializer
    policy = BACK_OFFICE
    calculator_type = TaxCalculator.Type.MANUAL
    filterable = fields("name", "type", tax_rules_id="tax_rules__id")

    def perform_create_service(self, data: dict[str, Any]) -> Model:
        return services.tax_calculator_create(data=data)

    def perform_update_service(self, instance: Model, data: dict[str, Any]) -> Model:
        assert isinstance(instance, TaxCalculator)
        return services.tax_calculator_update(tax_calculator=instance, data=data)


class TaxRuleView(ResourceViewSet):
    resource_name = "tax_rules"
    serializer_class = TaxRuleSerializer
    policy = BACK_OFFICE
    filterable = fields(
        "name",
        "tax_rate",
        "freight_taxable",
        "payment_method_taxable",
        "gift_card_taxable",
        "adjustment_taxable",
        manual_tax_calculator_id="manual_tax_calculator__id",
    )
    sortable = fields("name", "tax_rate")

    def default_ordering(self) -> tuple[str, ...]:
        # the order a calculator tries its rules in: the first that matches decides
        return ("created_at", "pk")

    def perform_create_service(self, data: dict[str, Any]) -> Model:
        return services.tax_rule_create(data=data)

    def perform_update_service(self, instance: Model, data: dict[str, Any]) -> Model:
        assert isinstance(instance, TaxRule)
        return services.tax_rule_update(tax_rule=instance, data=data)


class TaxCategoryView(ResourceViewSet):
    resource_name = "tax_categories"
    serializer_class = TaxCategorySerializer
    policy = BACK_OFFICE
    filterable = fields(
        "code",
        sku_id="sku__id",
        sku_code="sku__code",
        tax_calculator_id="tax_calculator__id",
    )
    sortable = fields("code", sku_code="sku__code")

    def perform_create_service(self, data: dict[str, Any]) -> Model:
        return services.tax_category_create(data=data)

    def perform_update_service(self, instance: Model, data: dict[str, Any]) -> Model:
        assert isinstance(instance, TaxCategory)
        return services.tax_category_update(tax_category=instance, data=data)
