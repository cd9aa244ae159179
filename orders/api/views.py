"""Order endpoints: the storefront builds and places its cart; the back office runs the rest.

A sales channel knows only the ids it was given: it creates orders in its market, reads and
updates one it holds while it is a cart (reads it also once placed), and reaches the order's
line items, shipments and transactions only through that order, never by listing them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from django.db.models import Model, Q, QuerySet
from rest_framework.request import Request
from rest_framework.response import Response

from fulfillment.models import Return, Shipment
from fulfillment.services import stock_reserve_draft
from markets.api.serializers import ADDRESS_WRITABLE, AddressSerializer
from markets.models import Address, Market
from oms.api.errors import ApiError
from oms.api.permissions import EVERYTHING, READ, Forbidden, Policy
from oms.api.principal import Principal
from oms.api.throttling import IPRateThrottle
from oms.api.views import NestedListMixin, ResourceViewSet, fields
from orders import services
from orders.api import serializers as s
from orders.errors import AddressNotFound, InvalidAttribute, attribute, relationship
from orders.models import (
    Customer,
    CustomerAddress,
    CustomerPasswordReset,
    CustomerPaymentSource,
    GiftCard,
    LineItem,
    Order,
)
from orders.selectors import addresses_unreferenced
from orders.services.customers import (
    customer_address_add,
    customer_address_update,
    customer_password_set,
    email_normalize,
)
from orders.services.line_items import line_item_gift_card_add
from orders.services.password_resets import (
    customer_password_reset_complete,
    customer_password_reset_request,
)
from orders.services.wallet import (
    customer_payment_source_create,
    customer_payment_source_delete,
)
from payments import services as payments
from payments.api.views import AuthorizationView, CaptureView
from payments.errors import PaymentFailed, PaymentMethodNotAvailable
from payments.models import Transaction

# What a storefront may read: its carts, and its orders once placed.
STOREFRONT_STATUSES = (
    Order.Status.DRAFT,
    Order.Status.PENDING,
    Order.Status.PLACING,
    Order.Status.PLACED,
)
STOREFRONT_TRIGGERS = frozenset({"_place", "_refresh", "_pending", "_update_taxes"})


def visible_orders(principal: Principal) -> QuerySet[Order]:
    orders = Order.objects.all()
    if principal.is_integration:
        return orders
    if principal.is_customer:
        return orders.filter(customer_id=principal.customer_id, market_id__in=principal.market_ids)
    return orders.filter(market_id__in=principal.market_ids, status__in=STOREFRONT_STATUSES)


def order_visible(principal: Principal, order: Order) -> bool:
    """Whether `visible_orders(principal)` holds `order`, answered from the row the request
    read (a relationship's target) instead of asking the database again."""
    if principal.is_integration:
        return True
    if order.market_id not in principal.market_ids:
        return False
    if principal.is_customer:
        return order.customer_id == principal.customer_id
    return order.status in STOREFRONT_STATUSES


class SignUpThrottle(IPRateThrottle):
    """Storefront sign-ups per IP address: e-mail addresses cannot be harvested by trying
    them (a taken one answers 422)."""

    scope = "customer_signup_ip"
    setting = "OMS_SIGNUP_RATE_PER_IP"


class PasswordResetThrottle(IPRateThrottle):
    scope = "customer_password_reset_ip"
    setting = "OMS_SIGNUP_RATE_PER_IP"


class CodeAttemptThrottle(IPRateThrottle):
    """Coupon and gift-card codes a storefront tries on one cart: a code cannot be found by
    trying many (the answers of an unknown and an unusable code are the same, too)."""

    scope = "order_code_attempts"
    setting = "OMS_CODE_ATTEMPTS_PER_ORDER"
    default_rate = "20/hour"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        data = request.data if isinstance(request.data, Mapping) else {}
        if not {"coupon_code", "gift_card_code"} & set(data):
            return None
        return f"{self.scope}:{view.kwargs.get('pk', '')}"


class StorefrontCreateThrottleMixin:
    """Throttle what a storefront creates (integrations are trusted back offices)."""

    storefront_create_throttle: type[IPRateThrottle]

    def get_throttles(self) -> list[Any]:
        view: Any = self
        throttles: list[Any] = list(super().get_throttles())  # type: ignore[misc]
        principal = getattr(view.request, "auth", None)
        storefront = isinstance(principal, Principal) and not principal.is_integration
        if view.action == "create" and storefront:
            throttles.append(self.storefront_create_throttle())
        return throttles


class CustomerView(StorefrontCreateThrottleMixin, ResourceViewSet):
    """A storefront signs a customer up (e-mail and password); a customer reads itself."""

    resource_name = "customers"
    serializer_class = s.CustomerSerializer
    policy = Policy(sales_channel=frozenset({"create"}), customer=READ)
    storefront_create_throttle = SignUpThrottle
    filterable = fields(
        "email", "status", "total_orders_count", customer_group_id="customer_group__id"
    )
    sortable = fields("email", "status", "total_orders_count")

    def scope_queryset(self, queryset: QuerySet[Any], principal: Principal) -> QuerySet[Any]:
        if principal.is_integration:
            return queryset
        return queryset.filter(pk=principal.customer_id)

    def perform_create_service(self, data: dict[str, Any]) -> Model:
        password = data.pop("password", None)
        if not self.principal.is_integration:
            if "customer_group" in data:
                raise Forbidden(
                    "A storefront cannot choose a customer's group.",
                    pointer="/data/relationships/customer_group",
                )
            if password is None:
                raise ApiError(
                    "A sign-up needs a password.",
                    code="VALIDATION_ERROR",
                    status_code=422,
                    pointer="/data/attributes/password",
                )
        return services.customer_create(data=data, password=password)

    def reload(self, instance: Model) -> Model:
        if self.action == "create" and not self.principal.is_integration:
            # a storefront signing a customer up sees the customer it created, once
            return self.with_includes(self.base_queryset(), set()).get(pk=instance.pk)
        return super().reload(instance)

    def perform_update_service(self, instance: Model, data: dict[str, Any]) -> Model:
        assert isinstance(instance, Customer)
        password = data.pop("password", None)
        customer = services.customer_update(customer=instance, data=data) if data else instance
        if password is not None:
            customer = customer_password_set(customer=customer, password=password)
        return customer


class OwnCustomerMixin:
    """A customer token writes only its own records: the `customer` it names must be its own
    (an integration names anyone)."""

    def own_customer(self, data: dict[str, Any]) -> Customer:
        view: Any = self
        principal: Principal = view.principal
        customer = data.get("customer")
        if not principal.is_integration and (
            not isinstance(customer, Customer) or customer.pk != principal.customer_id
        ):
            raise Forbidden(
                "A customer writes only its own records.",
                pointer="/data/relationships/customer",
            )
        assert isinstance(customer, Customer)
        return customer


def customer_scope(queryset: QuerySet[Any], principal: Principal) -> QuerySet[Any]:
    """A customer's records: its own only, whatever the market; a sales channel's none."""
    if principal.is_integration:
        return queryset
    if not principal.is_customer:
        return queryset.none()
    return queryset.filter(customer_id=principal.customer_id)


class CustomerAddressView(OwnCustomerMixin, ResourceViewSet):
    """A customer's address book: it adds, changes and removes its own entries."""

    resource_name = "customer_addresses"
    serializer_class = s.CustomerAddressSerializer
    policy = Policy(customer=EVERYTHING)
    filterable = fields(customer_id="customer__id", address_id="address__id")
    sortable = fields()

    def scope_queryset(self, queryset: QuerySet[Any], principal: Principal) -> QuerySet[Any]:
        return customer_scope(queryset, principal)

    def held_address(self, address: Any) -> Any:
        """An address the token holds (a cart's, its own book's, one just created)."""
        principal = self.principal
        if principal.is_integration:
            return address
        held = Address.objects.filter(owned_addresses(principal, writable=True))
        if not isinstance(address, Address) or not held.filter(pk=address.pk).exists():
            raise AddressNotFound(
                f"No address has the id {getattr(address, 'pk', address)!r}.",
                pointer=relationship("address"),
            )
        return address

    def perform_create_service(self, data: dict[str, Any]) -> Model:
        customer = self.own_customer(data)
        address = self.held_address(data["address"])
        if self.principal.is_integration:
            return services.customer_address_create(customer=customer, address=address)
        return customer_address_add(customer=customer, address=address)

    def perform_update_service(self, instance: Model, data: dict[str, Any]) -> Model:
        assert isinstance(instance, CustomerAddress)
        if "address" in data:
            data["address"] = self.held_address(data["address"])
        return customer_address_update(customer_address=instance, data=data)

    def perform_destroy_service(self, instance: Model) -> None:
        assert isinstance(instance, CustomerAddress)
        services.customer_address_delete(customer_address=instance)


class CustomerPaymentSourceView(OwnCustomerMixin, ResourceViewSet):
    """A customer's wallet: saved from its placed orders (or by itself), used again by its
    carts (`_customer_payment_source_id`), removed by it."""

    resource_name = "customer_payment_sources"
    serializer_class = s.CustomerPaymentSourceSerializer
    policy = Policy(customer=EVERYTHING)
    filterable = fields(
        "name",
        "payment_source_token",
        customer_id="customer__id",
        payment_method_id="payment_method__id",
    )
    sortable = fields("name")

    def scope_queryset(self, queryset: QuerySet[Any], principal: Principal) -> QuerySet[Any]:
        return customer_scope(queryset, principal)

    def perform_create_service(self, data: dict[str, Any]) -> Model:
        customer = self.own_customer(data)
        method = data["payment_method"]
        visible = self.scoped_queryset_of("payment_methods")
        if not visible.filter(pk=method.pk).exists():
            raise PaymentMethodNotAvailable(
                "This payment method is not available to this token's market.",
                pointer=relationship("payment_method"),
            )
        return customer_payment_source_create(
            customer=customer,
            payment_method=method,
            payment_source_token=data["payment_source_token"],
            customer_token=data.get("customer_token", ""),
        )

    def perform_destroy_service(self, instance: Model) -> None:
        assert isinstance(instance, CustomerPaymentSource)
        customer_payment_source_delete(customer_payment_source=instance)


class CustomerPasswordResetView(StorefrontCreateThrottleMixin, ResourceViewSet):
    """A storefront asks for a password reset by e-mail and completes it with the e-mailed
    token; it never reads one (the id it was answered is enough to complete it)."""

    resource_name = "customer_password_resets"
    serializer_class = s.CustomerPasswordResetSerializer
    policy = Policy(sales_channel=frozenset({"create", "update"}))
    filterable = fields("customer_email", "reset_password_at")
    sortable = fields("reset_password_at")
    storefront_create_throttle = PasswordResetThrottle

    def perform_create_service(self, data: dict[str, Any]) -> Model:
        return customer_password_reset_request(email=str(data.get("customer_email") or ""))

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        reset = self.get_object()
        assert isinstance(reset, CustomerPasswordReset)
        serializer = self.get_serializer(reset, data=self.request_data(), partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        password = data.pop("customer_password", None)
        token = data.pop("_reset_password_token", None)
        if password is None or token is None:
            missing = "customer_password" if password is None else "_reset_password_token"
            raise ApiError(
                "Send the new customer_password with the _reset_password_token.",
                code="VALIDATION_ERROR",
                status_code=422,
                pointer=attribute(missing),
            )
        reset = customer_password_reset_complete(reset=reset, token=token, password=password)
        return Response(self.get_serializer(self.reload(reset)).data)


def owned_addresses(principal: Principal, *, writable: bool) -> Q:
    """The addresses a storefront reaches through what owns them: the carts it holds (their
    orders once placed, to read), a customer's address book, and addresses nothing owns yet
    (just created, to attach). Addresses are never shared (an order given a used one gets a
    clone), so each has one owner."""
    orders = visible_orders(principal)
    if writable:
        orders = orders.filter(status__in=Order.CART_STATUSES)
    owned = (
        Q(pk__in=orders.values("shipping_address"))
        | Q(pk__in=orders.values("billing_address"))
        | addresses_unreferenced()
    )
    if principal.is_customer:
        book = CustomerAddress.objects.filter(customer_id=principal.customer_id)
        owned |= Q(pk__in=book.values("address"))
    return owned


class AddressView(ResourceViewSet):
    resource_name = "addresses"
    serializer_class = AddressSerializer
    answers_from_written = True  # created unowned, changed only through a scope check
    # storefronts create the addresses of their carts and read those whose id they hold
    policy = Policy(sales_channel=frozenset({"create", "retrieve", "update"}))
    filterable = fields(*ADDRESS_WRITABLE)
    sortable = fields("city", "state_code", "country_code")

    def scope_queryset(self, queryset: QuerySet[Any], principal: Principal) -> QuerySet[Any]:
        if principal.is_integration:
            return queryset
        readable = owned_addresses(principal, writable=False)
        if principal.is_customer:
            # where its returns go back to (their stock location's): to read, never to attach
            # to a cart or to change, so not among the addresses it owns
            returns = Return.objects.filter(order__in=visible_orders(principal).values("pk"))
            readable |= Q(pk__in=returns.values("stock_location__address"))
        return queryset.filter(readable)

    def perform_update_service(self, instance: Model, data: dict[str, Any]) -> Model:
        principal = self.principal
        if not principal.is_integration:
            writable = Address.objects.filter(owned_addresses(principal, writable=True))
            if not writable.filter(pk=instance.pk).exists():
                raise ApiError(
                    "The address belongs to a placed order: it cannot change any more.",
                    code="ORDER_NOT_EDITABLE",
                    status_code=422,
                    pointer="/data",
                )
        return super().perform_update_service(instance, data)


class OrderView(ResourceViewSet):
    resource_name = "orders"
    serializer_class = s.OrderSerializer

    def get_throttles(self) -> list[Any]:
        throttles: list[Any] = list(super().get_throttles())
        principal = getattr(self.request, "auth", None)
        if self.action == "partial_update" and not (
            isinstance(principal, Principal) and principal.is_integration
        ):
            throttles.append(CodeAttemptThrottle())
        return throttles

    policy = Policy(
        sales_channel=frozenset({"create", "retrieve", "update"}),
        customer=READ,
        admin=READ | {"create", "update"},
    )
    filterable = fields(
        "number",
        "status",
        "payment_status",
        "fulfillment_status",
        "customer_email",
        "currency_code",
        "language_code",
        "guest",
        "placed_at",
        "approved_at",
        "cancelled_at",
        "archived_at",
        "total_amount_cents",
        "total_amount_with_taxes_cents",
        market_id="market__id",
        market_code="market__code",
        customer_id="customer__id",
    )
    sortable = fields(
        "number",
        "status",
        "payment_status",
        "fulfillment_status",
        "placed_at",
        "approved_at",
        "total_amount_cents",
    )

    def scope_queryset(self, queryset: QuerySet[Any], principal: Principal) -> QuerySet[Any]:
        if principal.is_integration:
            if self.action == "list" and not any(
                "archived_at" in name for name in self.request.query_params
            ):
                return queryset.filter(archived_at__isnull=True)  # archived orders leave lists
            return queryset
        return queryset.filter(pk__in=visible_orders(principal).values("pk"))

    def _market_for_create(self, data: dict[str, Any]) -> Market:
        principal = self.principal
        market = data.pop("market", None)
        if market is None:
            if len(principal.market_ids) != 1:
                raise ApiError(
                    "Name the order's market (relationships.market).",
                    code="VALIDATION_ERROR",
                    status_code=422,
                    pointer="/data/relationships/market",
                )
            market = Market.objects.select_related("price_list").get(pk=principal.market_ids[0])
        if not principal.is_integration and market.pk not in principal.market_ids:
            raise Forbidden("This token is not scoped to that market.")
        return market

    def _storefront_data(self, data: dict[str, Any], *, creating: bool) -> None:
        """What a storefront may not send, however the serializer accepts it: a customer (it
        names the buyer by `customer_email`; a customer token's cart is its own), another
        e-mail than the customer's own, and addresses it does not hold."""
        principal = self.principal
        if principal.is_integration:
            return
        if not principal.is_customer:
            for name in s.ORDER_WALLET_ATTRIBUTES:
                if name in data:
                    raise Forbidden(
                        f"{name} needs the customer's own token (log in first).",
                        pointer=attribute(name),
                    )
        own = (
            Customer.objects.filter(pk=principal.customer_id).first()
            if principal.customer_id is not None
            else None
        )
        if "customer" in data and (own is None or data["customer"] != own):
            raise Forbidden(
                "A storefront names an order's buyer with customer_email, not customer.",
                pointer="/data/relationships/customer",
            )
        if own is not None:
            email = data.get("customer_email")
            if email is not None and email_normalize(str(email)) != own.email:
                raise ApiError(
                    "A customer's order carries the customer's own e-mail.",
                    code="VALIDATION_ERROR",
                    status_code=422,
                    pointer="/data/attributes/customer_email",
                )
            if creating:
                data["customer"] = own
        held = Address.objects.filter(owned_addresses(principal, writable=False))
        for slot in ("shipping_address", "billing_address"):
            value = data.get(slot)
            if isinstance(value, Address) and not held.filter(pk=value.pk).exists():
                raise AddressNotFound(
                    f"No address has the id {value.pk!r}.", pointer=relationship(slot)
                )
            key = f"_{slot}_clone_id"
            if data.get(key) and not held.filter(pk=str(data[key])).exists():
                raise AddressNotFound(
                    f"No address has the id {data[key]!r}.", pointer=attribute(key)
                )

    def perform_create_service(self, data: dict[str, Any]) -> Model:
        market = self._market_for_create(data)
        self._storefront_data(data, creating=True)
        return services.order_create(market=market, actor=self.actor, data=data)

    # A cart created or changed by one service (its locked copy, recomputed) answers as
    # written while its writer still sees it; a trigger's workflow runs transactions of its
    # own and is read again.
    answers_from_written = True

    def renders_as_written(self, instance: Model) -> bool:
        assert isinstance(instance, Order)
        return order_visible(self.principal, instance) and super().renders_as_written(instance)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        order = self.get_object()
        serializer = self.get_serializer(order, data=self.request_data(), partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        triggers = [name for name in s.ORDER_TRIGGERS if data.pop(name, False)]
        self.triggered = bool(triggers)
        principal = self.principal
        if not principal.is_integration:
            refused = [name for name in triggers if name not in STOREFRONT_TRIGGERS]
            if refused:
                raise Forbidden(f"{refused[0]} is a back-office trigger.")
            self._storefront_data(data, creating=False)
            if data and order.status not in Order.CART_STATUSES:
                raise ApiError(
                    f"Order #{order.number} is {order.status}: a storefront changes only carts.",
                    code="ORDER_NOT_EDITABLE",
                    status_code=422,
                    pointer="/data",
                )
        if data:
            order = services.order_update(
                order=order, actor=self.actor, data=data, integration=principal.is_integration
            )
        for trigger in triggers:
            if trigger == "_capture":
                order = services.order_capture(
                    order=order, actor=self.actor, idempotency_key=self.idempotency_key()
                )
            else:
                order = services.order_trigger(order=order, actor=self.actor, trigger=trigger)
        return Response(self.get_serializer(self.reload(order)).data)

    computed_relationships = {
        "available_payment_methods": "payment_methods",
        "available_customer_payment_sources": "customer_payment_sources",
    }

    def computed_related_ids(self, name: str, parent: Model) -> list[str]:
        assert isinstance(parent, Order)
        serializer = s.OrderSerializer(context={"request": self.request})
        if name == "available_customer_payment_sources":
            return [e.pk for e in serializer.get_available_customer_payment_sources(parent)]
        return [m.pk for m in serializer.get_available_payment_methods(parent)]


class LineItemView(NestedListMixin, ResourceViewSet):
    resource_name = "line_items"
    serializer_class = s.LineItemSerializer
    answers_from_written = True  # of an order the writer sees (checked before the write)
    policy = Policy(sales_channel=frozenset({"list", "create", "retrieve", "update", "destroy"}))
    filterable = fields(
        "sku_code", "item_type", "name", "quantity", "unit_amount_cents", order_id="order__id"
    )
    sortable = fields("sku_code", "quantity", "unit_amount_cents")
    trigger_parameters = frozenset({"_update_quantity"})
    triggers = {"_reserve_stock": "trigger_reserve_stock"}

    def scope_queryset(self, queryset: QuerySet[Any], principal: Principal) -> QuerySet[Any]:
        return queryset.filter(order_id__in=visible_orders(principal).values("pk"))

    def default_ordering(self) -> tuple[str, ...]:
        return ("created_at", "pk")

    def perform_create_service(self, data: dict[str, Any]) -> Model:
        order: Order = data["order"]
        if not order_visible(self.principal, order):
            raise Forbidden("This token cannot add to that order.")
        item = data.get("item")
        item_type = data.get("item_type") or (
            LineItem.ItemType.GIFT_CARDS if isinstance(item, GiftCard) else LineItem.ItemType.SKUS
        )
        if item_type == LineItem.ItemType.GIFT_CARDS:
            return self._gift_card_line_create(order, data, item)
        if item_type != LineItem.ItemType.SKUS:
            raise InvalidAttribute(
                f"item_type - {item_type} lines are set by their own workflows; a client "
                "creates skus or gift_cards lines.",
                pointer=attribute("item_type"),
            )
        if isinstance(item, GiftCard):
            raise InvalidAttribute(
                "item - a gift card is sold in a gift_cards line.", pointer=relationship("item")
            )
        line = services.line_item_create(
            order=order,
            actor=self.actor,
            sku=data.get("sku") or item,
            sku_code=data.get("sku_code") or "",
            quantity=data.get("quantity", 1),
            update_quantity=bool(data.get("_update_quantity")),
            unit_amount_cents=data.get("unit_amount_cents"),
            name=data.get("name", ""),
            metadata=data.get("metadata"),
            reference=data.get("reference", ""),
            integration=self.principal.is_integration,
        )
        if data.get("_reserve_stock"):
            stock_reserve_draft(line_item=line, actor=self.actor)
        return line

    def _gift_card_line_create(self, order: Order, data: dict[str, Any], item: Any) -> LineItem:
        """`item_type: gift_cards`: the card named by `item` is sold in the cart."""
        if not isinstance(item, GiftCard):
            raise InvalidAttribute(
                "item - a gift_cards line needs its gift card.", pointer=relationship("item")
            )
        for name in ("sku", "sku_code", "name", "unit_amount_cents", "_update_quantity"):
            if data.get(name) not in (None, "", False):
                raise InvalidAttribute(
                    f"{name} - does not apply to a gift card's line (priced at its balance).",
                    pointer=relationship(name) if name == "sku" else attribute(name),
                )
        if data.get("_reserve_stock"):
            raise InvalidAttribute(
                "_reserve_stock - a gift card has no stock.", pointer=attribute("_reserve_stock")
            )
        return line_item_gift_card_add(
            order=order,
            actor=self.actor,
            gift_card=item,
            quantity=data.get("quantity", 1),
            metadata=data.get("metadata"),
            reference=data.get("reference", ""),
        )

    def perform_update_service(self, instance: Model, data: dict[str, Any]) -> Model:
        assert isinstance(instance, LineItem)
        return services.line_item_update(
            line_item=instance,
            actor=self.actor,
            quantity=data.get("quantity"),
            unit_amount_cents=data.get("unit_amount_cents"),
            name=data.get("name"),
            integration=self.principal.is_integration,
        )

    def trigger_reserve_stock(self, instance: LineItem, value: Any) -> LineItem:
        stock_reserve_draft(line_item=instance, actor=self.actor)
        return instance

    def perform_destroy_service(self, instance: Model) -> None:
        assert isinstance(instance, LineItem)
        services.line_item_delete(
            line_item=instance, actor=self.actor, integration=self.principal.is_integration
        )


class ShipmentView(NestedListMixin, ResourceViewSet):
    resource_name = "shipments"
    serializer_class = s.ShipmentSerializer
    policy = Policy(
        sales_channel=frozenset({"list", "retrieve", "update"}), admin=READ | {"update"}
    )
    filterable = fields("number", "status", order_id="order__id")
    sortable = fields("number", "status")

    def scope_queryset(self, queryset: QuerySet[Any], principal: Principal) -> QuerySet[Any]:
        return queryset.filter(order_id__in=visible_orders(principal).values("pk"))

    def default_ordering(self) -> tuple[str, ...]:
        return ("number", "pk")

    # a shipment whose method was just set answers as written (locked, with its stock lines
    # and its locked order); after a trigger's workflow it is read again
    answers_from_written = True

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        shipment = self.get_object()
        serializer = self.get_serializer(shipment, data=self.request_data(), partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        triggers = [name for name in s.SHIPMENT_TRIGGERS if data.pop(name, False)]
        self.triggered = bool(triggers)
        if triggers and not self.principal.is_integration:
            raise Forbidden(f"{triggers[0]} is a back-office trigger.")
        order = shipment.order
        if (
            "shipping_method" in data
            and not self.principal.is_integration
            and order.status not in Order.CART_STATUSES
        ):
            # the order was priced and paid with the method it has: only staff may change it
            raise ApiError(
                f"Order #{order.number} is {order.status}: its shipping method is set.",
                code="ORDER_NOT_EDITABLE",
                status_code=422,
                pointer="/data/relationships/shipping_method",
            )
        if "shipping_method" in data:
            if data["shipping_method"] is None:
                raise ApiError(
                    "A shipment needs a shipping method.",
                    code="VALIDATION_ERROR",
                    status_code=422,
                    pointer="/data/relationships/shipping_method",
                )
            shipment = services.order_shipment_shipping_method_set(
                shipment=shipment, shipping_method=data["shipping_method"], actor=self.actor
            )
        for trigger in triggers:
            shipment = services.order_shipment_trigger(
                shipment=shipment, trigger=trigger, actor=self.actor
            )
        return Response(self.get_serializer(self.reload(shipment)).data)

    computed_relationships = {"available_shipping_methods": "shipping_methods"}

    def computed_related_ids(self, name: str, parent: Model) -> list[str]:
        assert isinstance(parent, Shipment)
        return [m.pk for m in s.ShipmentSerializer().get_available_shipping_methods(parent)]


class PaymentSourceView(ResourceViewSet):
    """A storefront adds the payment source of a cart it holds; staff read them."""

    policy = Policy(sales_channel=frozenset({"create", "retrieve"}))
    filterable = fields(order_id="order__id")
    sortable = fields()
    create_service: ClassVar[str]
    answers_from_written = True  # of an order the writer sees (checked before the write)

    def scope_queryset(self, queryset: QuerySet[Any], principal: Principal) -> QuerySet[Any]:
        return queryset.filter(order_id__in=visible_orders(principal).values("pk"))

    def perform_create_service(self, data: dict[str, Any]) -> Model:
        order: Order = data.pop("order")
        if not order_visible(self.principal, order):
            raise Forbidden("This token cannot pay for that order.")
        if order.status not in Order.CART_STATUSES:
            raise ApiError(
                f"Order #{order.number} is {order.status}: its payment source is set.",
                code="ORDER_NOT_EDITABLE",
                status_code=422,
                pointer="/data/relationships/order",
            )
        return self.source_create(order, data)  # in `create`'s transaction

    def source_create(self, order: Order, data: dict[str, Any]) -> Model:
        raise NotImplementedError


class WireTransferView(PaymentSourceView):
    resource_name = "wire_transfers"
    serializer_class = s.WireTransferSerializer

    def source_create(self, order: Order, data: dict[str, Any]) -> Model:
        return payments.wire_transfer_create(order=order)


class ExternalPaymentView(PaymentSourceView):
    resource_name = "external_payments"
    serializer_class = s.ExternalPaymentSerializer

    def source_create(self, order: Order, data: dict[str, Any]) -> Model:
        return payments.external_payment_create(
            order=order,
            payment_source_token=data.get("payment_source_token", ""),
            options=data.get("options"),
        )


class TestPaymentView(PaymentSourceView):
    __test__ = False
    resource_name = "test_payments"
    serializer_class = s.TestPaymentSerializer

    def source_create(self, order: Order, data: dict[str, Any]) -> Model:
        return payments.test_payment_create(order=order, token=data.get("token", "tok_success"))


# The money triggers of an order's transactions: staff only, each through the order-level
# workflow (it moves the order's statuses too). The amount attributes are triggers themselves,
# as in Commerce Layer: `_capture_amount_cents` alone captures that amount.
MONEY_TRIGGERS = Policy(sales_channel=frozenset({"retrieve"}), admin=READ | {"update"})


def money_moved(transaction: Transaction) -> Transaction:
    """A trigger that moved nothing answers so: a declined gateway call is a 422 with the
    failed transaction's code, never a 200 that did nothing."""
    if not transaction.succeeded:
        raise PaymentFailed(transaction)
    return transaction


class OrderAuthorizationView(AuthorizationView):
    policy = MONEY_TRIGGERS
    triggers = {
        "_capture": "trigger_capture",
        "_capture_amount_cents": "trigger_capture",
        "_void": "trigger_void",
    }

    def trigger_capture(self, instance: Transaction, value: Any) -> Transaction:
        money_moved(
            services.order_authorization_capture(
                authorization=instance,
                amount_cents=self.trigger_values.get("_capture_amount_cents"),
                actor=self.actor,
                idempotency_key=self.idempotency_key(),
            )
        )
        return instance

    def trigger_void(self, instance: Transaction, value: Any) -> Transaction:
        money_moved(
            services.order_authorization_void(
                authorization=instance, actor=self.actor, idempotency_key=self.idempotency_key()
            )
        )
        return instance


class OrderCaptureView(CaptureView):
    policy = MONEY_TRIGGERS
    triggers = {"_refund": "trigger_refund", "_refund_amount_cents": "trigger_refund"}

    def trigger_refund(self, instance: Transaction, value: Any) -> Transaction:
        money_moved(
            services.order_capture_refund(
                capture=instance,
                amount_cents=self.trigger_values.get("_refund_amount_cents"),
                actor=self.actor,
                idempotency_key=self.idempotency_key(),
            )
        )
        return instance
