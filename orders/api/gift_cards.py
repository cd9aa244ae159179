"""Gift cards for the back office (`/api/gift_cards`): the card, its balance log and usage log
(read from its balance moves, one prefetch per page), and the triggers that sell, activate,
deactivate and recharge it. Storefronts do not read cards: an order redeems one by its code."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import F, Model, Prefetch, QuerySet
from rest_framework import serializers

from oms.api.permissions import BACK_OFFICE
from oms.api.serializers import (
    FormattedMoneyField,
    MoneyFloatField,
    Relationship,
    ResourceSerializer,
    TypedMethodField,
)
from oms.api.views import ResourceViewSet, fields
from orders.models import GiftCard, GiftCardBalanceChange
from orders.services import gift_cards as services
from orders.services.gift_cards import GIFT_CARD_BALANCE_LIMIT

BALANCE_LOG_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "datetime": {"type": "string", "format": "date-time"},
            "balance_change_cents": {"type": "integer"},
            "balance_cents": {"type": "integer"},
            "kind": {"type": "string", "enum": [*GiftCardBalanceChange.Kind.values]},
            "order_id": {"type": "string"},
            "order_number": {"type": "string"},
        },
    },
}
USAGE_LOG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "action": {"type": "string", "enum": ["use", "credit"]},
                "amount_cents": {"type": "integer"},
                "balance_cents": {"type": "integer"},
                "order_number": {"type": "string"},
                "datetime": {"type": "string", "format": "date-time"},
            },
        },
    },
}
# what an order did with the card, in Commerce Layer's words
USAGE_ACTIONS: dict[str, str] = {
    GiftCardBalanceChange.Kind.DEBIT: "use",
    GiftCardBalanceChange.Kind.CREDIT: "credit",
}
CARD_ATTRIBUTES = (
    "currency_code",
    "balance_cents",
    "balance_max_cents",
    "single_use",
    "rechargeable",
    "distribute_discount",
    "image_url",
    "expires_at",
    "recipient_email",
)
TRIGGERS = ("_purchase", "_activate", "_deactivate", "_balance_change_cents")


def balance_changes_prefetch() -> Prefetch[Any]:
    """Every move of the cards of a page in one query, with its order's number (a join, not
    the order rows)."""
    changes = GiftCardBalanceChange.objects.annotate(order_number=F("order__number")).order_by(
        "created_at", "id"
    )
    return Prefetch("balance_changes", queryset=changes)


def order_number_of(change: GiftCardBalanceChange) -> str | None:
    if change.order_id is None:
        return None
    number = getattr(change, "order_number", None)
    if number is None:  # not read through `balance_changes_prefetch`
        number = change.order.number if change.order else None
    return None if number is None else str(number)


class GiftCardSerializer(ResourceSerializer):
    relationships = {"market": Relationship("markets", writable="both")}
    code = serializers.CharField(required=False, allow_blank=True, max_length=255)
    currency_code = serializers.CharField(required=False, allow_blank=True, max_length=3)
    balance_cents = serializers.IntegerField(
        required=False, min_value=0, max_value=GIFT_CARD_BALANCE_LIMIT
    )
    balance_max_cents = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=GIFT_CARD_BALANCE_LIMIT
    )
    initial_balance_cents = serializers.IntegerField(read_only=True)
    initial_balance_float = MoneyFloatField("initial_balance_cents")
    formatted_initial_balance = FormattedMoneyField("initial_balance_cents")
    balance_float = MoneyFloatField("balance_cents")
    formatted_balance = FormattedMoneyField("balance_cents")
    balance_max_float = MoneyFloatField("balance_max_cents")
    formatted_balance_max = FormattedMoneyField("balance_max_cents")
    balance_log = TypedMethodField(BALANCE_LOG_SCHEMA)
    usage_log = TypedMethodField(USAGE_LOG_SCHEMA)
    _purchase = serializers.BooleanField(write_only=True, required=False)
    _activate = serializers.BooleanField(write_only=True, required=False)
    _deactivate = serializers.BooleanField(write_only=True, required=False)
    _balance_change_cents = serializers.IntegerField(
        write_only=True,
        required=False,
        min_value=-GIFT_CARD_BALANCE_LIMIT,
        max_value=GIFT_CARD_BALANCE_LIMIT,
    )

    class Meta:
        model = GiftCard
        resource_name = "gift_cards"
        fields = (
            "status",
            "code",
            "currency_code",
            "initial_balance_cents",
            "initial_balance_float",
            "formatted_initial_balance",
            "balance_cents",
            "balance_float",
            "formatted_balance",
            "balance_max_cents",
            "balance_max_float",
            "formatted_balance_max",
            "balance_log",
            "usage_log",
            "single_use",
            "rechargeable",
            "distribute_discount",
            "image_url",
            "expires_at",
            "recipient_email",
            *TRIGGERS,
        )
        read_only_fields = ("status",)
        creatable = ("code", *CARD_ATTRIBUTES, "market")
        updatable = (*CARD_ATTRIBUTES, "market", *TRIGGERS)

    def get_balance_log(self, gift_card: GiftCard) -> list[dict[str, Any]]:
        log: list[dict[str, Any]] = []
        for change in gift_card.balance_changes.all():
            entry: dict[str, Any] = {
                "datetime": change.created_at.isoformat(),
                "balance_change_cents": change.amount_cents,
                "balance_cents": change.balance_cents,
                "kind": change.kind,
            }
            number = order_number_of(change)
            if change.order_id is not None:
                entry["order_id"] = change.order_id
                if number is not None:
                    entry["order_number"] = number
            log.append(entry)
        return log

    def get_usage_log(self, gift_card: GiftCard) -> dict[str, list[dict[str, Any]]]:
        """What each order took from (or gave back to) the card, keyed by the order's id."""
        usage: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
        for change in gift_card.balance_changes.all():
            if change.order_id is None:
                continue
            usage[change.order_id].append(
                {
                    "action": USAGE_ACTIONS.get(change.kind, change.kind),
                    "amount_cents": change.amount_cents,
                    "balance_cents": change.balance_cents,
                    "order_number": order_number_of(change),
                    "datetime": change.created_at.isoformat(),
                }
            )
        return dict(usage)


class GiftCardView(ResourceViewSet):
    resource_name = "gift_cards"
    serializer_class = GiftCardSerializer
    policy = BACK_OFFICE
    filterable = fields(
        "code",
        "status",
        "currency_code",
        "balance_cents",
        "balance_max_cents",
        "single_use",
        "rechargeable",
        "expires_at",
        "recipient_email",
        market_id="market__id",
    )
    sortable = fields(
        "status",
        "currency_code",
        "balance_cents",
        "balance_max_cents",
        "expires_at",
        market_id="market__id",
    )
    triggers = {
        "_purchase": "trigger_purchase",
        "_activate": "trigger_activate",
        "_deactivate": "trigger_deactivate",
        "_balance_change_cents": "trigger_balance_change",
    }

    def base_queryset(self) -> QuerySet[Any]:
        return super().base_queryset().prefetch_related(balance_changes_prefetch())

    def perform_create_service(self, data: dict[str, Any]) -> Model:
        return services.gift_card_create(data=data)

    def perform_update_service(self, instance: Model, data: dict[str, Any]) -> Model:
        assert isinstance(instance, GiftCard)
        return services.gift_card_update(gift_card=instance, data=data)

    def perform_destroy_service(self, instance: Model) -> None:
        assert isinstance(instance, GiftCard)
        services.gift_card_delete(gift_card=instance)

    def trigger_purchase(self, instance: GiftCard, value: Any) -> GiftCard:
        return services.gift_card_purchase(gift_card=instance)

    def trigger_activate(self, instance: GiftCard, value: Any) -> GiftCard:
        return services.gift_card_activate(gift_card=instance)

    def trigger_deactivate(self, instance: GiftCard, value: Any) -> GiftCard:
        return services.gift_card_deactivate(gift_card=instance)

    def trigger_balance_change(self, instance: GiftCard, value: Any) -> GiftCard:
        return services.gift_card_balance_change(gift_card=instance, amount_cents=int(value))
