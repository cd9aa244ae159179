"""JSON:API resources of promotions, their rules and coupons (spec section 6): back office only.

One table holds the five kinds of promotion and one the three kinds of rule, as transactions
do: `promotions` and `promotion_rules` list every kind (rendered with those base types and a
`type` attribute), and each kind has its own endpoint with its own attributes and the writes.
A rule's `promotion` is whichever kind its promotion is; a promotion's rule of each kind is
a to-one of its `promotion_rules`, read from them when included.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from django.db.models import Count, IntegerField, Model, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from rest_framework import serializers

from oms.api.errors import Conflict
from oms.api.permissions import BACK_OFFICE, READ, Policy
from oms.api.serializers import (
    FormattedMoneyField,
    MoneyFloatField,
    Relationship,
    ResourceSerializer,
    TypedMethodField,
    include_names,
)
from oms.api.views import ResourceViewSet, fields, include_lookups
from orders.models import Coupon, Promotion, PromotionRule
from orders.services import promotions as services

PROMOTION_TYPES: tuple[str, ...] = tuple(Promotion.Type.values)
RULE_TYPES: tuple[str, ...] = tuple(PromotionRule.Type.values)
# a promotion's to-one rule relationship -> the kind of rule it is
RULE_RELATIONSHIPS = {
    "order_amount_promotion_rule": PromotionRule.Type.ORDER_AMOUNT,
    "sku_list_promotion_rule": PromotionRule.Type.SKU_LIST,
    "coupon_codes_promotion_rule": PromotionRule.Type.COUPON_CODES,
}
# back office only; the base lists are read only (write through each kind's endpoint)
READ_ONLY_BACK_OFFICE = Policy(sales_channel=frozenset(), read_only=READ, admin=READ)


def promotions_with_coupons_count(queryset: QuerySet[Promotion]) -> QuerySet[Promotion]:
    """`coupons_count` in the same query as the promotions (a subquery per row, not a join
    that would multiply them)."""
    coupons = (
        Coupon.objects.filter(promotion_rule__promotion=OuterRef("pk"))
        .order_by()
        .values("promotion_rule__promotion")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return queryset.annotate(
        coupons_count_value=Coalesce(Subquery(coupons, output_field=IntegerField()), 0)
    )


def rule_of(kind: str) -> Callable[[Promotion], PromotionRule | None]:
    def resolve(promotion: Promotion) -> PromotionRule | None:
        # `promotion_rules` is prefetched when a rule is included (see PromotionView)
        return next((rule for rule in promotion.promotion_rules.all() if rule.type == kind), None)

    return resolve


# --- promotions -------------------------------------------------------------------------------

PROMOTION_FIELDS = (
    "name",
    "type",
    "currency_code",
    "exclusive",
    "priority",
    "starts_at",
    "expires_at",
    "total_usage_limit",
    "total_usage_count",
    "total_usage_reached",
    "active",
    "status",
    "weight",
    "coupons_count",
    "disabled_at",
)
PROMOTION_WRITABLE = (
    "name",
    "currency_code",
    "exclusive",
    "priority",
    "starts_at",
    "expires_at",
    "total_usage_limit",
    "market",
    "_disable",
    "_enable",
)
PROMOTION_RELATIONSHIPS: dict[str, Relationship] = {
    "market": Relationship("markets", writable="both", required=True),
    "promotion_rules": Relationship("promotion_rules", many=True, reverse="promotion"),
    **{
        name: Relationship(rule_type, polymorphic=(rule_type,), resolve=rule_of(rule_type))
        for name, rule_type in RULE_RELATIONSHIPS.items()
    },
}
SKU_LIST_RELATIONSHIP = {"sku_list": Relationship("sku_lists", writable="both")}


class PromotionSerializer(ResourceSerializer):
    _reserved_field_names = {"meta", "results"}
    relationships = PROMOTION_RELATIONSHIPS
    computed_relationships = {"coupons": ("get_coupons", "coupons")}
    type = serializers.CharField(read_only=True)
    total_usage_reached = serializers.BooleanField(read_only=True)
    active = serializers.BooleanField(read_only=True)
    status = serializers.ChoiceField(choices=Promotion.Status.choices, read_only=True)
    weight = serializers.IntegerField(read_only=True)
    coupons_count = TypedMethodField({"type": "integer", "minimum": 0})
    _disable = serializers.BooleanField(write_only=True, required=False)
    _enable = serializers.BooleanField(write_only=True, required=False)

    class Meta:
        model = Promotion
        resource_name = "promotions"
        # the rules' money attributes are in the market's currency
        select_related = ("market__price_list",)
        fields: tuple[str, ...] = (*PROMOTION_FIELDS, "_disable", "_enable")
        read_only_fields = ("total_usage_count", "disabled_at")
        creatable: tuple[str, ...] = ()
        updatable: tuple[str, ...] = ()

    def get_coupons_count(self, promotion: Promotion) -> int:
        counted = getattr(promotion, "coupons_count_value", None)
        if counted is not None:
            return int(counted)
        return Coupon.objects.filter(promotion_rule__promotion=promotion).count()

    def get_coupons(self, promotion: Promotion) -> list[Coupon]:
        # `promotion_rules__coupons` is prefetched when coupons are included (see PromotionView)
        return [coupon for rule in promotion.promotion_rules.all() for coupon in rule.coupons.all()]


class PercentageDiscountPromotionSerializer(PromotionSerializer):
    relationships = {**PROMOTION_RELATIONSHIPS, **SKU_LIST_RELATIONSHIP}

    class Meta(PromotionSerializer.Meta):
        resource_name = "percentage_discount_promotions"
        fields = (*PROMOTION_FIELDS, "percentage", "_disable", "_enable")
        creatable = (*PROMOTION_WRITABLE, "percentage", "sku_list")
        updatable = creatable


class FreeShippingPromotionSerializer(PromotionSerializer):
    class Meta(PromotionSerializer.Meta):
        resource_name = "free_shipping_promotions"
        fields = (*PROMOTION_FIELDS, "_disable", "_enable")
        creatable = PROMOTION_WRITABLE
        updatable = creatable


FIXED_AMOUNT_MONEY: dict[str, serializers.Field] = {
    "fixed_amount_float": MoneyFloatField("fixed_amount_cents"),
    "formatted_fixed_amount": FormattedMoneyField("fixed_amount_cents"),
}


class FixedAmountPromotionSerializer(PromotionSerializer):
    computed_fields = FIXED_AMOUNT_MONEY

    class Meta(PromotionSerializer.Meta):
        resource_name = "fixed_amount_promotions"
        fields = (*PROMOTION_FIELDS, "fixed_amount_cents", "_disable", "_enable")
        creatable = (*PROMOTION_WRITABLE, "fixed_amount_cents")
        updatable = creatable


class FixedPricePromotionSerializer(PromotionSerializer):
    relationships = {**PROMOTION_RELATIONSHIPS, **SKU_LIST_RELATIONSHIP}
    computed_fields = FIXED_AMOUNT_MONEY

    class Meta(PromotionSerializer.Meta):
        resource_name = "fixed_price_promotions"
        fields = (*PROMOTION_FIELDS, "fixed_amount_cents", "_disable", "_enable")
        creatable = (*PROMOTION_WRITABLE, "fixed_amount_cents", "sku_list")
        updatable = creatable


class BuyXPayYPromotionSerializer(PromotionSerializer):
    relationships = {**PROMOTION_RELATIONSHIPS, **SKU_LIST_RELATIONSHIP}

    class Meta(PromotionSerializer.Meta):
        resource_name = "buy_x_pay_y_promotions"
        fields = (*PROMOTION_FIELDS, "x", "y", "cheapest_free", "_disable", "_enable")
        creatable = (*PROMOTION_WRITABLE, "x", "y", "cheapest_free", "sku_list")
        updatable = creatable


class IncludedThroughViewsMixin:
    """To-one relationships whose included records are read through their own view (a
    promotion's `coupons_count` is an annotation of the promotions' queryset): prefetched with
    that view's queryset and includes, instead of joined without them."""

    included_through_views: ClassVar[Mapping[str, str]] = {}  # relationship -> resource type

    def with_includes(self, queryset: QuerySet[Any], includes: set[str]) -> QuerySet[Any]:
        view: Any = self
        for name, resource_type in self.included_through_views.items():
            paths = {path for path in includes if path.split(".")[0] == name}
            if not paths:
                continue
            nested = {path.split(".", 1)[1] for path in paths if "." in path}
            target = view.registry[resource_type](
                request=view.request, format_kwarg=None, action="list", kwargs={}
            )
            related = target.with_includes(target.base_queryset(), nested)
            # a joined record would be taken as fetched already, and not read again
            queryset = queryset.select_related(None).prefetch_related(
                Prefetch(name, queryset=related)
            )
            includes = includes - paths
        result: QuerySet[Any] = super().with_includes(queryset, includes)  # type: ignore[misc]
        return result


class PromotionView(ResourceViewSet):
    """Every promotion, whatever its kind (read only: write through each kind's endpoint)."""

    resource_name = "promotions"
    serializer_class = PromotionSerializer
    policy = READ_ONLY_BACK_OFFICE
    filterable = fields(
        "name",
        "type",
        "currency_code",
        "exclusive",
        "priority",
        "starts_at",
        "expires_at",
        "total_usage_limit",
        "total_usage_count",
        "disabled_at",
        market_id="market__id",
        market_code="market__code",
        sku_list_id="sku_list__id",
    )
    sortable = fields(
        "name",
        "type",
        "currency_code",
        "exclusive",
        "priority",
        "starts_at",
        "expires_at",
        "total_usage_limit",
        "total_usage_count",
        "disabled_at",
    )
    computed_relationships = {"coupons": "coupons"}
    triggers = {"_disable": "trigger_disable", "_enable": "trigger_enable"}
    promotion_type: ClassVar[str | None] = None

    def base_queryset(self) -> QuerySet[Any]:
        return promotions_with_coupons_count(super().base_queryset())

    def scope_queryset(self, queryset: QuerySet[Any], principal: Any) -> QuerySet[Any]:
        return queryset.filter(type=self.promotion_type) if self.promotion_type else queryset

    def default_ordering(self) -> tuple[str, ...]:
        return ("priority", "-created_at", "pk")

    def computed_related_ids(self, name: str, parent: Model) -> Sequence[str]:
        coupons = Coupon.objects.filter(promotion_rule__promotion_id=parent.pk)
        return list(coupons.values_list("pk", flat=True))

    def with_includes(self, queryset: QuerySet[Any], includes: set[str]) -> QuerySet[Any]:
        """The rule of each kind and the coupons are read from the promotion's rules: one
        prefetch of them serves all (nothing is included below a rule of a kind: it is a
        polymorphic to-one, see `check_include_paths`)."""
        through_rules = {*RULE_RELATIONSHIPS, "coupons"}
        # what a rendered promotion reads, root or included: the linkage of each of these
        # whose name appears anywhere in `include`
        names = include_names(self.request)
        if not names & through_rules:
            return super().with_includes(queryset, includes)
        coupon_paths = {path for path in includes if path.split(".")[0] == "coupons"}
        if "coupons" in names:
            coupon_paths.add("coupons")
        select, prefetch = include_lookups(
            CouponCodesPromotionRuleSerializer, coupon_paths, names=names
        )
        rules = PromotionRule.objects.all()
        if select:
            rules = rules.select_related(*select)
        if prefetch:
            rules = rules.prefetch_related(*prefetch)
        queryset = queryset.prefetch_related(Prefetch("promotion_rules", queryset=rules))
        remaining = {path for path in includes if path.split(".")[0] not in through_rules}
        return super().with_includes(queryset, remaining)

    def perform_create_service(self, data: dict[str, Any]) -> Model:
        assert self.promotion_type is not None
        triggers = {name: data.pop(name) for name in list(data) if name.startswith("_")}
        promotion: Model = services.promotion_create(type=self.promotion_type, data=data)
        for name, value in triggers.items():
            if value:
                promotion = self.perform_trigger(promotion, name, value)
        return promotion

    def perform_update_service(self, instance: Model, data: dict[str, Any]) -> Model:
        assert isinstance(instance, Promotion)
        return services.promotion_update(promotion=instance, data=data)

    def trigger_disable(self, instance: Promotion, value: Any) -> Promotion:
        return services.promotion_disable(promotion=instance)

    def trigger_enable(self, instance: Promotion, value: Any) -> Promotion:
        return services.promotion_enable(promotion=instance)


class PercentageDiscountPromotionView(PromotionView):
    resource_name = "percentage_discount_promotions"
    serializer_class = PercentageDiscountPromotionSerializer
    policy = BACK_OFFICE
    promotion_type = Promotion.Type.PERCENTAGE_DISCOUNT


class FreeShippingPromotionView(PromotionView):
    resource_name = "free_shipping_promotions"
    serializer_class = FreeShippingPromotionSerializer
    policy = BACK_OFFICE
    promotion_type = Promotion.Type.FREE_SHIPPING


class FixedAmountPromotionView(PromotionView):
    resource_name = "fixed_amount_promotions"
    serializer_class = FixedAmountPromotionSerializer
    policy = BACK_OFFICE
    promotion_type = Promotion.Type.FIXED_AMOUNT


class FixedPricePromotionView(PromotionView):
    resource_name = "fixed_price_promotions"
    serializer_class = FixedPricePromotionSerializer
    policy = BACK_OFFICE
    promotion_type = Promotion.Type.FIXED_PRICE


class BuyXPayYPromotionView(PromotionView):
    resource_name = "buy_x_pay_y_promotions"
    serializer_class = BuyXPayYPromotionSerializer
    policy = BACK_OFFICE
    promotion_type = Promotion.Type.BUY_X_PAY_Y


# --- promotion rules --------------------------------------------------------------------------

RULE_RELATIONSHIP = {
    "promotion": Relationship(
        "promotions", polymorphic=PROMOTION_TYPES, writable="both", required=True
    )
}


def promotion_of_linkage(linkage: Any) -> Promotion:
    """The promotion a rule's `promotion` linkage names: any kind, by its own type or as
    `promotions`."""
    pointer = "/data/relationships/promotion"
    if not isinstance(linkage, Mapping) or "type" not in linkage or "id" not in linkage:
        raise serializers.ValidationError({"promotion": "A promotion needs a type and an id."})
    kind, pk = linkage["type"], linkage["id"]
    if kind != "promotions" and kind not in PROMOTION_TYPES:
        raise Conflict(
            f"Incorrect relation type. Expected one of {', '.join(PROMOTION_TYPES)}, "
            f"received {kind}.",
            pointer=pointer,
        )
    found = Promotion.objects.filter(pk=str(pk))
    if kind != "promotions":
        found = found.filter(type=kind)
    promotion = found.first()
    if promotion is None:
        raise serializers.ValidationError(
            {"promotion": f'Invalid pk "{pk}" - object does not exist.'}
        )
    return promotion


class PromotionRuleSerializer(ResourceSerializer):
    _reserved_field_names = {"meta", "results"}
    relationships: ClassVar[dict[str, Relationship]] = RULE_RELATIONSHIP
    type = serializers.CharField(read_only=True)

    class Meta:
        model = PromotionRule
        resource_name = "promotion_rules"
        # the order amount is in the promotion's market's currency
        select_related = ("promotion__market__price_list",)
        fields: tuple[str, ...] = ("type",)
        creatable: tuple[str, ...] = ()
        updatable: tuple[str, ...] = ()

    def to_internal_value(self, data: Any) -> Any:
        # the polymorphic `promotion` renders read only; a write names it here
        attrs = super().to_internal_value(data)
        if isinstance(data, Mapping) and data.get("promotion") is not None:
            attrs["promotion"] = promotion_of_linkage(data["promotion"])
        return attrs


class OrderAmountPromotionRuleSerializer(PromotionRuleSerializer):
    order_amount_float = MoneyFloatField("order_amount_cents")
    formatted_order_amount = FormattedMoneyField("order_amount_cents")

    class Meta(PromotionRuleSerializer.Meta):
        resource_name = "order_amount_promotion_rules"
        fields = (
            "type",
            "order_amount_cents",
            "order_amount_float",
            "formatted_order_amount",
            "use_subtotal",
        )
        creatable = ("order_amount_cents", "use_subtotal", "promotion")
        updatable = creatable


class SkuListPromotionRuleSerializer(PromotionRuleSerializer):
    relationships = {
        **RULE_RELATIONSHIP,
        "sku_list": Relationship("sku_lists", writable="both", required=True),
    }

    class Meta(PromotionRuleSerializer.Meta):
        resource_name = "sku_list_promotion_rules"
        fields = ("type", "all_skus", "min_quantity")
        creatable = ("all_skus", "min_quantity", "promotion", "sku_list")
        updatable = creatable


class CouponCodesPromotionRuleSerializer(PromotionRuleSerializer):
    relationships = {
        **RULE_RELATIONSHIP,
        "coupons": Relationship("coupons", many=True, reverse="promotion_rule"),
    }

    class Meta(PromotionRuleSerializer.Meta):
        resource_name = "coupon_codes_promotion_rules"
        creatable = ("promotion",)
        updatable = creatable


RULE_SERIALIZERS: dict[str, type[PromotionRuleSerializer]] = {
    PromotionRule.Type.ORDER_AMOUNT: OrderAmountPromotionRuleSerializer,
    PromotionRule.Type.SKU_LIST: SkuListPromotionRuleSerializer,
    PromotionRule.Type.COUPON_CODES: CouponCodesPromotionRuleSerializer,
}


class PromotionRuleView(IncludedThroughViewsMixin, ResourceViewSet):
    """Every rule, whatever its kind (read only: write through each kind's endpoint)."""

    resource_name = "promotion_rules"
    serializer_class = PromotionRuleSerializer
    policy = READ_ONLY_BACK_OFFICE
    filterable = fields("type", promotion_id="promotion__id")
    sortable = fields("type")
    included_through_views = {"promotion": "promotions"}
    rule_type: ClassVar[str | None] = None

    def scope_queryset(self, queryset: QuerySet[Any], principal: Any) -> QuerySet[Any]:
        return queryset.filter(type=self.rule_type) if self.rule_type else queryset

    def perform_create_service(self, data: dict[str, Any]) -> Model:
        assert self.rule_type is not None
        return services.promotion_rule_create(type=self.rule_type, data=data)

    def perform_update_service(self, instance: Model, data: dict[str, Any]) -> Model:
        assert isinstance(instance, PromotionRule)
        return services.promotion_rule_update(promotion_rule=instance, data=data)


class OrderAmountPromotionRuleView(PromotionRuleView):
    resource_name = "order_amount_promotion_rules"
    serializer_class = OrderAmountPromotionRuleSerializer
    policy = BACK_OFFICE
    filterable = fields("order_amount_cents", "use_subtotal", promotion_id="promotion__id")
    sortable = fields("order_amount_cents")
    rule_type = PromotionRule.Type.ORDER_AMOUNT


class SkuListPromotionRuleView(PromotionRuleView):
    resource_name = "sku_list_promotion_rules"
    serializer_class = SkuListPromotionRuleSerializer
    policy = BACK_OFFICE
    filterable = fields(
        "all_skus", "min_quantity", promotion_id="promotion__id", sku_list_id="sku_list__id"
    )
    sortable = fields("min_quantity")
    rule_type = PromotionRule.Type.SKU_LIST


class CouponCodesPromotionRuleView(PromotionRuleView):
    resource_name = "coupon_codes_promotion_rules"
    serializer_class = CouponCodesPromotionRuleSerializer
    policy = BACK_OFFICE
    filterable = fields(promotion_id="promotion__id")
    sortable = fields()
    rule_type = PromotionRule.Type.COUPON_CODES


# --- coupons ----------------------------------------------------------------------------------

COUPON_WRITABLE = (
    "code",
    "customer_single_use",
    "usage_limit",
    "recipient_email",
    "expires_at",
    "promotion_rule",
)


class CouponSerializer(ResourceSerializer):
    relationships = {
        "promotion_rule": Relationship(
            "coupon_codes_promotion_rules", writable="both", required=True
        )
    }
    code = serializers.CharField(max_length=255)

    class Meta:
        model = Coupon
        resource_name = "coupons"
        fields = (
            "code",
            "customer_single_use",
            "usage_limit",
            "usage_count",
            "recipient_email",
            "expires_at",
        )
        read_only_fields = ("usage_count",)
        creatable = COUPON_WRITABLE
        updatable = COUPON_WRITABLE


class CouponView(IncludedThroughViewsMixin, ResourceViewSet):
    resource_name = "coupons"
    serializer_class = CouponSerializer
    policy = BACK_OFFICE
    filterable = fields(
        "code",
        "customer_single_use",
        "usage_limit",
        "usage_count",
        "recipient_email",
        "expires_at",
        promotion_rule_id="promotion_rule__id",
        promotion_id="promotion_rule__promotion__id",
    )
    sortable = fields("code", "customer_single_use", "usage_limit", "usage_count", "expires_at")
    included_through_views = {"promotion_rule": "coupon_codes_promotion_rules"}

    def perform_create_service(self, data: dict[str, Any]) -> Model:
        return services.coupon_create(data=data)

    def perform_update_service(self, instance: Model, data: dict[str, Any]) -> Model:
        assert isinstance(instance, Coupon)
        return services.coupon_update(coupon=instance, data=data)


PROMOTION_VIEWS: tuple[type[ResourceViewSet], ...] = (
    PromotionView,
    PercentageDiscountPromotionView,
    FreeShippingPromotionView,
    FixedAmountPromotionView,
    FixedPricePromotionView,
    BuyXPayYPromotionView,
    PromotionRuleView,
    OrderAmountPromotionRuleView,
    SkuListPromotionRuleView,
    CouponCodesPromotionRuleView,
    CouponView,
)
