"""The bare placement transaction (insert the order, 3 lines, 3 guarded stock decrements, an
authorization, the order's update) and the bare GET (the order and its lines), each answered
with a DRF serializer."""

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from bench.baseline.models import Authorization, LineItem, Order, StockItem

CART = [("SKU-1", 1, 995), ("SKU-2", 2, 500), ("SKU-3", 3, 250)]


class LineItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = LineItem
        fields = ("id", "sku_code", "quantity", "unit_amount_cents", "total_amount_cents")


class OrderSerializer(serializers.ModelSerializer):
    line_items = LineItemSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = (
            "id",
            "status",
            "currency_code",
            "total_amount_cents",
            "customer_email",
            "created_at",
            "updated_at",
            "placed_at",
            "line_items",
        )


@api_view(["POST"])
def place(request: Request) -> Response:
    with transaction.atomic():
        order = Order.objects.create(customer_email="bench@example.com")
        total = 0
        for sku_code, quantity, unit in CART:
            LineItem.objects.create(
                order=order,
                sku_code=sku_code,
                quantity=quantity,
                unit_amount_cents=unit,
                total_amount_cents=unit * quantity,
            )
            total += unit * quantity
        for sku_code, quantity, _ in CART:
            decremented = StockItem.objects.filter(
                sku_code=sku_code, quantity__gte=quantity
            ).update(quantity=F("quantity") - quantity)
            if not decremented:
                raise ValidationError("out of stock")
        Authorization.objects.create(order=order, amount_cents=total)
        order.status, order.total_amount_cents, order.placed_at = "placed", total, timezone.now()
        order.save(update_fields=["status", "total_amount_cents", "placed_at", "updated_at"])
    return Response({"id": order.pk, "status": order.status, "total": total})


@api_view(["GET"])
def order_get(request: Request, pk: int) -> Response:
    order = Order.objects.prefetch_related("line_items").get(pk=pk)
    return Response(OrderSerializer(order).data)
