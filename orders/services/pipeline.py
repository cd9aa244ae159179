"""The one recompute pipeline of an order's contents, run on the locked order whenever its
lines, addresses, shipping or payment method change (and once more at placement):

    reprice → plan shipments (once) → charge lines → promotions → gift cards → taxes → totals

Promotions (`orders.services.discounts`, on carts and orders being placed), the gift card (what
it may pay) and taxes (the market's tax rule for the order's address) fill their slots;
`order_totals_write` is the only writer of the stored totals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from django.utils import timezone

from fulfillment.models import Shipment, ShippingMethod
from fulfillment.selectors import shipment_cost
from fulfillment.services import shipments_replan
from markets.models import Price, TaxRule
from oms.actors import Actor
from orders.errors import OrderTotalNegative, attribute
from orders.locks import order_line_items_lock
from orders.models import LineItem, Order
from orders.selectors import prices_for_skus
from orders.services.discounts import order_gift_card_balance, order_promotions_sync
from orders.totals import Totals, order_totals_compute
from payments.models import PaymentMethod


def order_recompute(
    *,
    order: Order,
    actor: Actor,
    reprice: bool,
    lines: Sequence[LineItem] | None = None,
    shipments: Sequence[Shipment] | None = None,
    loaded_units: dict[str, int] | None = None,
    also_save: Sequence[str] = (),
    prices: Mapping[str, Price] | None = None,
) -> tuple[list[LineItem], list[LineItem]]:
    """Run the pipeline on the locked `order`. `shipments` given (placement planned them with
    its stock reservations) are used as they are; otherwise a cart's draft shipments are
    planned here. `loaded_units`: the lines' unit prices as stored, when the caller repriced
    them in memory already; `also_save`: other fields the caller changed on `order`, saved
    with its totals; `prices`: the lines' prices by SKU id, read in this transaction already.
    Returns (the order's lines, charges included; the SKU lines with no price)."""
    lines = list(order_line_items_lock(order) if lines is None else lines)
    if loaded_units is None:
        loaded_units = {line.pk: line.unit_amount_cents for line in lines}
    unpriced = line_items_reprice(order, lines, prices=prices) if reprice else []
    if order.status in Order.CART_STATUSES or order.status == Order.Status.PLACING:
        planned = list(shipments) if shipments is not None else _shipments_plan(order, actor, lines)
        lines = _charges_sync(order=order, lines=lines, shipments=planned)
        lines, changed = order_promotions_sync(order=order, lines=lines)
    else:
        changed = set()  # a placed order keeps the promotions it was placed with
    changed |= _taxes_apply(order, lines)
    order_totals_write(
        order=order,
        lines=lines,
        loaded_units=loaded_units,
        also_save=also_save,
        gift_card_balance_cents=order_gift_card_balance(order),
        changed=changed,
    )
    return lines, unpriced


def tax_rule_of(order: Order) -> TaxRule | None:
    """The rule of the market's tax calculator that taxes the order: the first (oldest) whose
    patterns match its shipping address, else its billing address; None: no tax."""
    calculator_id = order.market.tax_calculator_id
    address = order.shipping_address or order.billing_address
    if calculator_id is None or address is None:
        return None
    for rule in TaxRule.objects.filter(manual_tax_calculator_id=calculator_id).order_by(
        "created_at", "id"
    ):
        if rule.matches(address):
            return rule
    return None


def line_tax_rate(line: LineItem, rule: TaxRule | None) -> Decimal:
    """The rate of `line` under `rule`: goods always, the rest when the rule says so."""
    if rule is None:
        return Decimal(0)
    taxable = {
        "skus": True,
        "bundles": True,
        "gift_cards": rule.gift_card_taxable,
        "shipments": rule.freight_taxable,
        "payment_methods": rule.payment_method_taxable,
        "adjustments": rule.adjustment_taxable,
    }.get(line.item_type, False)
    return Decimal(rule.tax_rate) if taxable else Decimal(0)


def _taxes_apply(order: Order, lines: Sequence[LineItem]) -> set[str]:
    """The taxes slot: each line's `tax_rate` (in memory) from the market's tax rule for the
    order's address. Returns the pks of the lines whose rate changed."""
    rule = tax_rule_of(order)
    changed: set[str] = set()
    for line in lines:
        rate = line_tax_rate(line, rule)
        if Decimal(line.tax_rate) != rate:
            line.tax_rate = rate
            changed.add(line.pk)
    return changed


def line_items_reprice(
    order: Order, lines: Sequence[LineItem], prices: Mapping[str, Price] | None = None
) -> list[LineItem]:
    """Set every SKU line's unit price from the market's price list (volume tier by quantity),
    except lines an integration priced. Returns the lines that have no price (left as they were).
    `prices` (by SKU id) are used when they cover every line's SKU, else they are read."""
    sku_lines = [line for line in lines if line.item_type == "skus" and line.sku_id]
    sku_ids = {line.sku_id for line in sku_lines if line.sku_id}
    if prices is None or not sku_ids <= prices.keys():
        prices = prices_for_skus(price_list_id=order.market.price_list_id, sku_ids=sku_ids)
    unpriced: list[LineItem] = []
    for line in sku_lines:
        if line.unit_amount_manual:
            continue
        price = prices.get(line.sku_id or "")
        if price is None:
            unpriced.append(line)
            continue
        line.unit_amount_cents = price.unit_amount_cents_for(line.quantity)
    return unpriced


def order_totals_write(
    *,
    order: Order,
    lines: Sequence[LineItem],
    loaded_units: dict[str, int] | None = None,
    also_save: Sequence[str] = (),
    gift_card_balance_cents: int = 0,
    changed: set[str] | None = None,
) -> None:
    """The only writer of an order's stored totals (and its lines' amounts): runs the totals
    function over the locked `lines` (repriced, discounted and taxed in memory, maybe) and
    saves what changed, with the caller's `also_save` fields in the same statement.
    `changed`: the lines whose discount or tax rate the pipeline set."""
    totals: Totals = order_totals_compute(
        order, lines, gift_card_balance_cents=gift_card_balance_cents
    )
    if totals.total_amount_cents < 0:
        raise OrderTotalNegative(
            f"The total of order #{order.number} would be negative.",
            pointer=attribute("total_amount_cents"),
        )
    now = timezone.now()
    adjusted = changed or set()
    changed_lines: list[LineItem] = []
    for line, line_totals in zip(lines, totals.lines, strict=True):
        values = {
            "total_amount_cents": line_totals.total_amount_cents,
            "discount_cents": line_totals.discount_cents,
            "tax_amount_cents": line_totals.tax_amount_cents,
        }
        repriced = loaded_units is not None and line.unit_amount_cents != loaded_units.get(
            line.pk, line.unit_amount_cents
        )
        if (
            repriced
            or line.pk in adjusted
            or any(getattr(line, name) != value for name, value in values.items())
        ):
            for name, value in values.items():
                setattr(line, name, value)
            line.updated_at = now
            changed_lines.append(line)
    if changed_lines:
        LineItem.objects.bulk_update(
            changed_lines,
            [
                "unit_amount_cents",
                "total_amount_cents",
                "discount_cents",
                "discount_breakdown",
                "tax_rate",
                "tax_amount_cents",
                "updated_at",
            ],
        )
    for name, value in totals.order_values().items():
        setattr(order, name, value)
    order.refreshed_at = now
    order.save(update_fields=[*Totals.ORDER_FIELDS, *also_save, "refreshed_at", "updated_at"])


def _shipments_plan(order: Order, actor: Actor, lines: Sequence[LineItem]) -> list[Shipment]:
    """The cart's draft shipments, rebuilt when its lines changed (kept when the plan did).
    A cart is planned once it has a shipping address: its shipping methods are matched to
    where it goes, and lines added before cost no plan each."""
    if order.market.inventory_model_id is None:
        return []
    if order.shipping_address_id is None and order.status in Order.CART_STATUSES:
        Shipment.objects.filter(order=order, status=Shipment.Status.DRAFT).delete()
        return []
    stock_lines = [
        (line, line.sku, line.quantity)
        for line in lines
        if line.item_type == LineItem.ItemType.SKUS and line.sku is not None
    ]
    return shipments_replan(order=order, actor=actor, lines=stock_lines)


def _charges_sync(
    *, order: Order, lines: list[LineItem], shipments: Sequence[Shipment]
) -> list[LineItem]:
    """On a locked cart: keep exactly one charge line per shipment that has a shipping method
    (its cost, free over the method's threshold) and one for the chosen payment method (its
    fee). Returns the order's lines, charges included."""
    subtotal = sum(line.unit_amount_cents * line.quantity for line in lines if line.purchasable)
    wanted: dict[tuple[str, str], tuple[str, int]] = {}
    chosen_ids = {s.shipping_method_id for s in shipments if s.shipping_method_id}
    methods = {  # as the shipments' lock read them, else in one query
        s.shipping_method_id: s.shipping_method
        for s in shipments
        if s.shipping_method_id and Shipment.shipping_method.is_cached(s)
    }
    if missing := chosen_ids - methods.keys():
        methods |= ShippingMethod.objects.in_bulk(missing)
    for shipment in shipments:
        method = methods.get(shipment.shipping_method_id or "")
        if method is not None:
            cost = shipment_cost(
                shipment=shipment, shipping_method=method, subtotal_amount_cents=subtotal
            )
            wanted[("shipments", shipment.pk)] = (method.name, cost)
    if order.payment_method is not None:
        method_name = order.payment_method.name or order.payment_method.payment_source_type
        wanted[("payment_methods", order.payment_method.pk)] = (
            method_name,
            order.payment_method.price_amount_cents,
        )
    # Charges this sync owns: shipment costs when the market plans shipments, and the fees of
    # payment methods (a charge set by hand for something else is left alone).
    manages_shipments = order.market.inventory_model_id is not None
    method_ids = {line.item_id for line in lines if line.item_type == "payment_methods"}
    chosen = {order.payment_method_id} if order.payment_method_id else set()
    known_methods = chosen & method_ids
    if method_ids - chosen:  # fees of other methods (chosen before): are they still methods?
        known_methods |= set(
            PaymentMethod.objects.filter(pk__in=method_ids - chosen).values_list("pk", flat=True)
        )
    kept: list[LineItem] = []
    for line in lines:
        key = (line.item_type, line.item_id)
        owned = (line.item_type == "shipments" and manages_shipments) or (
            line.item_type == "payment_methods" and line.item_id in known_methods
        )
        if key in wanted:
            name, amount = wanted.pop(key)
            if line.name != name or line.unit_amount_cents != amount:
                line.name, line.unit_amount_cents = name, amount
                line.total_amount_cents = amount * line.quantity
                line.save(
                    update_fields=["name", "unit_amount_cents", "total_amount_cents", "updated_at"]
                )
            kept.append(line)
        elif owned:
            line.delete()
        else:
            kept.append(line)
    for (item_type, item_id), (name, amount) in wanted.items():
        kept.append(
            LineItem.objects.create(
                order=order,
                item_type=item_type,
                item_id=item_id,
                name=name,
                quantity=1,
                unit_amount_cents=amount,
                total_amount_cents=amount,
                unit_amount_manual=True,
            )
        )
    return kept
