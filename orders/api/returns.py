"""Returns (`/api/returns`, `/api/return_line_items`; spec section 5): thin faces over the order
workflow of `orders.services.returns`, the only writer of returns and their lines.

Who does what (spec section 7, every role sees only its own):
- an integration with the admin role runs the whole life; a read-only one reads;
- a customer token (password grant) opens a return of its own fulfilled order in the token's
  market, adds, changes and removes the lines of its draft, sends `_request` and `_cancel`, and
  reads its own returns and their lines (in lists, at their ids, through `include` and the
  related endpoints alike);
- a sales channel without a customer has no returns: it holds orders by id, not their buyer's
  after-sales, so it can neither open nor read one (and `include=returns` is refused to it).

`_ship` stays with the back office. In Commerce Layer the customer hands the parcel to a carrier,
but its permission tables give a sales channel no return trigger by name, and "shipped" is what
the merchant records once the carrier has the goods (a tracking number, a drop-off scan), not a
customer's word it cannot check. `_approve`, `_reject`, `_receive`, `_restock`, `_refund`,
`_archive` and `_unarchive` are the merchant's decisions too, and so are where the goods go
(`stock_location`) and which capture pays the refund back (`reference_capture`).
"""

from __future__ import annotations

import json
from operator import attrgetter
from typing import Any

from django.db import transaction
from django.db.models import Model, Prefetch, QuerySet
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from fulfillment.models import Return, ReturnLineItem
from fulfillment.returns import RETURN_STATUS_TRIGGERS
from oms.api.permissions import EVERYTHING, READ, Forbidden, Policy
from oms.api.principal import Principal
from oms.api.serializers import (
    MetadataField,
    Relationship,
    ResourceSerializer,
    json_depth,
    money_fields,
)
from oms.api.views import ResourceViewSet, fields
from orders.api.views import order_visible, visible_orders
from orders.errors import attribute, relationship
from orders.services.returns import (
    RETURN_TRIGGERS,
    order_return_create,
    order_return_line_item_create,
    order_return_line_item_delete,
    order_return_line_item_update,
    order_return_refund,
    order_return_update,
)

# The trigger attributes of a return, in the order of its life (several in one PATCH run so).
RETURN_TRIGGER_NAMES = (*RETURN_STATUS_TRIGGERS, "_restock", "_refund", "_archive", "_unarchive")
CUSTOMER_TRIGGERS = frozenset({"_request", "_cancel"})
# where the goods go and what pays them back: the merchant's choice
BACK_OFFICE_RELATIONSHIPS = ("stock_location", "reference_capture")
RETURN_TIMES = (
    "approved_at",
    "cancelled_at",
    "shipped_at",
    "rejected_at",
    "received_at",
    "refunded_at",
    "archived_at",
)


def visible_returns(principal: Principal) -> QuerySet[Return]:
    """The returns a token may see: all for an integration, a customer's own (of its orders in
    the token's market), none for a sales channel."""
    returns = Return.objects.all()
    if principal.is_integration:
        return returns
    if not principal.is_customer:
        return returns.none()
    return returns.filter(order__in=visible_orders(principal).values("pk"))


def through(source: str, attribute_name: str, resource_type: str, **flags: Any) -> Relationship:
    """A to-one read through another record (a return's customer is its order's): no column of
    its own, so it renders as a polymorphic to-one of one type does (linkage when included, the
    record at its related endpoint); `source` is the ORM path `include` joins."""
    return Relationship(
        resource_type,
        source=source,
        polymorphic=(resource_type,),
        resolve=attrgetter(attribute_name),
        **flags,
    )


class ReturnSerializer(ResourceSerializer):
    relationships = {
        "order": Relationship("orders", writable="create", required=True),
        "customer": through("order__customer", "customer", "customers", customers_only=True),
        "stock_location": Relationship("stock_locations", writable="both"),
        "origin_address": through("order__shipping_address", "origin_address", "addresses"),
        "destination_address": through(
            "stock_location__address", "destination_address", "addresses"
        ),
        "reference_capture": Relationship("captures", writable="both"),
        "reference_refund": Relationship("refunds"),
        "return_line_items": Relationship("return_line_items", many=True, reverse="order_return"),
    }
    computed_fields = {
        **money_fields("estimated_refund_amount"),
        **{
            trigger: serializers.BooleanField(write_only=True, required=False)
            for trigger in RETURN_TRIGGER_NAMES
        },
        # the amount alone is the trigger too (the SDK's `_refund_amount_cents(id, cents)`)
        "_refund_amount_cents": serializers.IntegerField(
            write_only=True, required=False, min_value=1
        ),
    }
    customer_email = serializers.CharField(read_only=True)
    skus_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Return
        resource_name = "returns"
        fields = ("number", "status", "customer_email", "skus_count", *RETURN_TIMES)
        read_only_fields = ("number", "status")
        # the customer, the addresses and the currency are the order's and the stock location's
        select_related = ("order__customer", "order__shipping_address", "stock_location__address")
        # skus_count and the refund estimate are sums over the lines
        prefetch_related = ("return_line_items", "return_line_items__line_item")
        creatable = ("order", *BACK_OFFICE_RELATIONSHIPS)
        updatable = (*BACK_OFFICE_RELATIONSHIPS, *RETURN_TRIGGER_NAMES, "_refund_amount_cents")


class ReturnLineItemSerializer(ResourceSerializer):
    relationships = {
        "return": Relationship("returns", source="order_return", writable="create", required=True),
        "line_item": Relationship("line_items", writable="create", required=True),
    }
    computed_fields = {
        # `return` is no model field (and no Python name): this stands in for it until
        # `build_fields` puts the relationship field there
        "return": serializers.ReadOnlyField(),
        **money_fields("total_amount"),
    }
    sku_code = serializers.CharField(read_only=True)
    bundle_code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    image_url = serializers.CharField(read_only=True)
    quantity = serializers.IntegerField(min_value=1, max_value=100_000)
    return_reason = serializers.JSONField(required=False)
    _restock = serializers.BooleanField(write_only=True, required=False)

    class Meta:
        model = ReturnLineItem
        resource_name = "return_line_items"
        fields = (
            "sku_code",
            "bundle_code",
            "quantity",
            "name",
            "image_url",
            "return_reason",
            "restocked_at",
            "_restock",
        )
        # the codes, the name and the amounts are the order line's, in the order's currency
        select_related = ("line_item__order",)
        creatable = ("return", "line_item", "quantity", "return_reason")
        updatable = ("quantity", "return_reason", "_restock")

    def validate_return_reason(self, value: Any) -> Any:
        """A JSON object, as small and shallow as `metadata` must be."""
        if not isinstance(value, dict):
            raise serializers.ValidationError("return_reason must be a JSON object.")
        if json_depth(value) > MetadataField.MAX_DEPTH:
            raise serializers.ValidationError(
                f"return_reason may nest at most {MetadataField.MAX_DEPTH} levels deep."
            )
        if len(json.dumps(value, ensure_ascii=False)) > MetadataField.MAX_LENGTH:
            raise serializers.ValidationError(
                f"return_reason may be at most {MetadataField.MAX_LENGTH} characters as JSON."
            )
        return value


class ReturnView(ResourceViewSet):
    resource_name = "returns"
    serializer_class = ReturnSerializer
    policy = Policy(customer=READ | {"create", "update"}, admin=READ | {"create", "update"})
    filterable = fields(
        "number",
        "status",
        *RETURN_TIMES,
        order_id="order__id",
        order_number="order__number",
        customer_id="order__customer__id",
        stock_location_id="stock_location__id",
        reference_capture_id="reference_capture__id",
        reference_refund_id="reference_refund__id",
    )
    sortable = fields("number", "status", *RETURN_TIMES)

    def scope_queryset(self, queryset: QuerySet[Any], principal: Principal) -> QuerySet[Any]:
        if principal.is_integration:
            if self.action == "list" and not any(
                "archived_at" in name for name in self.request.query_params
            ):
                return queryset.filter(archived_at__isnull=True)  # archived returns leave lists
            return queryset
        return queryset.filter(pk__in=visible_returns(principal).values("pk"))

    def base_queryset(self) -> QuerySet[Any]:
        # the lines are preloaded as `include` asks (`with_includes`), and not at all when a
        # related endpoint only looks the return up
        return super().base_queryset().prefetch_related(None)

    def with_includes(self, queryset: QuerySet[Any], includes: set[str]) -> QuerySet[Any]:
        """The lines every return renders its sums from: the included ones when `include`
        walks through them (read with their order lines, and for a storefront through their
        own view's scope), else plainly with their order lines. Django refuses a lookup given
        twice if one of the two comes with a queryset, hence not both."""
        queryset = super().with_includes(queryset, includes)
        lookups = getattr(queryset, "_prefetch_related_lookups", ())
        if not any(
            isinstance(lookup, Prefetch) and lookup.prefetch_to == "return_line_items"
            for lookup in lookups
        ):
            queryset = queryset.prefetch_related(*ReturnSerializer.Meta.prefetch_related)
        return queryset

    def _back_office_only(self, data: dict[str, Any]) -> None:
        if self.principal.is_integration:
            return
        for name in BACK_OFFICE_RELATIONSHIPS:
            if name in data:
                raise Forbidden(f"{name} is set by the back office.", pointer=relationship(name))

    def perform_create_service(self, data: dict[str, Any]) -> Model:
        order = data["order"]
        if not order_visible(self.principal, order):
            raise Forbidden("This token cannot return that order.", pointer=relationship("order"))
        self._back_office_only(data)
        return order_return_create(
            order=order,
            actor=self.actor,
            stock_location=data.get("stock_location"),
            reference_capture=data.get("reference_capture"),
            reference=data.get("reference", ""),
            reference_origin=data.get("reference_origin", ""),
            metadata=data.get("metadata"),
        )

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        ret = self.get_object()
        serializer = self.get_serializer(ret, data=self.request_data(), partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        amount = data.pop("_refund_amount_cents", None)
        triggers = [name for name in RETURN_TRIGGER_NAMES if data.pop(name, False)]
        refund = "_refund" in triggers or amount is not None
        if not self.principal.is_integration:
            refused = [name for name in triggers if name not in CUSTOMER_TRIGGERS]
            if refused or amount is not None:
                name = refused[0] if refused else "_refund_amount_cents"
                raise Forbidden(f"{name} is a back-office trigger.", pointer=attribute(name))
            self._back_office_only(data)
        # All or nothing up to the refund; the refund calls the gateway, so it runs in its own
        # transactions after the rest is committed (never a gateway call inside a held lock).
        with transaction.atomic():
            if data:
                ret = order_return_update(ret=ret, data=data, actor=self.actor)
            for trigger in triggers:
                if trigger != "_refund":
                    ret = RETURN_TRIGGERS[trigger](ret=ret, actor=self.actor)
        if refund:
            ret = order_return_refund(
                ret=ret,
                actor=self.actor,
                amount_cents=amount,
                idempotency_key=self.idempotency_key(),
            )
        return Response(self.get_serializer(self.reload(ret)).data)


class ReturnLineItemView(ResourceViewSet):
    resource_name = "return_line_items"
    serializer_class = ReturnLineItemSerializer
    policy = Policy(customer=EVERYTHING)
    filterable = fields(
        "quantity",
        "restocked_at",
        return_id="order_return__id",
        line_item_id="line_item__id",
        sku_code="line_item__sku_code",
    )
    sortable = fields("quantity", "restocked_at")

    def scope_queryset(self, queryset: QuerySet[Any], principal: Principal) -> QuerySet[Any]:
        if principal.is_integration:
            return queryset
        return queryset.filter(order_return__in=visible_returns(principal).values("pk"))

    def default_ordering(self) -> tuple[str, ...]:
        return ("created_at", "pk")

    def with_includes(self, queryset: QuerySet[Any], includes: set[str]) -> QuerySet[Any]:
        """An included return renders its sums from its lines: it is read through the returns
        view, which preloads them (and scopes them for a storefront)."""
        paths = {path for path in includes if path.split(".")[0] == "return"}
        if paths:
            nested = {path.split(".", 1)[1] for path in paths if "." in path}
            # as at its own id (a list would leave archived returns out)
            view = self.registry["returns"](
                request=self.request, format_kwarg=None, action="retrieve", kwargs={}
            )
            returns = view.scope_queryset(view.base_queryset(), self.principal)
            queryset = queryset.prefetch_related(
                Prefetch("order_return", queryset=view.with_includes(returns, nested))
            )
        return super().with_includes(queryset, includes - paths)

    def perform_create_service(self, data: dict[str, Any]) -> Model:
        ret = data["order_return"]
        if not visible_returns(self.principal).filter(pk=ret.pk).exists():
            raise Forbidden("This token cannot add to that return.", pointer=relationship("return"))
        return order_return_line_item_create(
            ret=ret,
            line_item=data["line_item"],
            quantity=data["quantity"],
            actor=self.actor,
            return_reason=data.get("return_reason"),
            reference=data.get("reference", ""),
            reference_origin=data.get("reference_origin", ""),
            metadata=data.get("metadata"),
        )

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        line = self.get_object()
        serializer = self.get_serializer(line, data=self.request_data(), partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if data.get("_restock") and not self.principal.is_integration:
            raise Forbidden("_restock is a back-office trigger.", pointer=attribute("_restock"))
        if data:
            line = order_return_line_item_update(line=line, data=data, actor=self.actor)
        return Response(self.get_serializer(self.reload(line)).data)

    def perform_destroy_service(self, instance: Model) -> None:
        assert isinstance(instance, ReturnLineItem)
        order_return_line_item_delete(line=instance, actor=self.actor)
