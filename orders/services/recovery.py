"""Recovering placements whose process died (spec 2.2): `orders_recover_placements`.

A placement that was interrupted between sending its authorization and settling the answer
(a worker killed mid-call) leaves the order `placing` with a pending authorization. Once the
attempt is older than `OMS_PLACEMENT_STALE_SECONDS` (longer than any gateway call may take),
the gateway is asked what became of the authorization — never asked to authorize again:

- it succeeded: settled, and the order is placed (a partial one is given back, order pending);
- it failed, or the gateway never saw it: settled failed, and the placement is aborted
  (pending, stock released, `placement_errors` recorded);
- the gateway cannot tell: left as it is, reported, tried again on the next run.

An authorization settled before the process died (the order not yet moved) decides the
placement from its recorded answer, without asking the gateway.

A stale attempt that never reserved an authorization is aborted (a free order is placed).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone

from oms.actors import Actor
from orders.models import Order, OrderEvent
from orders.services.placement import (
    order_placement_abandon,
    order_placement_resolve,
    placement_attempt,
    placement_idempotency_key,
)
from payments.errors import GatewayLookupFailed
from payments.gateways import GatewayResult
from payments.models import Transaction
from payments.services import transaction_gateway_lookup

logger = logging.getLogger(__name__)

PLACED = "placed"
ABORTED = "aborted"
LEFT = "left"


@dataclass(frozen=True)
class StalePlacement:
    """A placing order whose attempt is stale, and its attempt's authorization (if any:
    usually pending, settled if the process died just after settling it)."""

    order: Order
    authorization: Transaction | None


@dataclass(frozen=True)
class Recovery:
    """What became (or, dry, would become) of one stale placement."""

    order: Order
    outcome: str  # PLACED, ABORTED or LEFT
    reason: str


def placements_stale(*, older_than: timedelta | None = None) -> list[StalePlacement]:
    """Placing orders whose attempt started, and whose authorization was sent, longer than
    `older_than` ago (default: `OMS_PLACEMENT_STALE_SECONDS`)."""
    if older_than is None:
        older_than = timedelta(seconds=settings.OMS_PLACEMENT_STALE_SECONDS)
    deadline = timezone.now() - older_than
    recent_attempt = OrderEvent.objects.filter(
        order_id=OuterRef("pk"),
        subject_type="orders",
        field="status",
        to_status=Order.Status.PLACING,
        created_at__gt=deadline,
    )
    stale: list[StalePlacement] = []
    for order in (
        Order.objects.filter(status=Order.Status.PLACING)
        .exclude(Exists(recent_attempt))
        .order_by("pk")
    ):
        key = placement_idempotency_key(order.pk, placement_attempt(order.pk))
        authorization = Transaction.objects.filter(order_id=order.pk, idempotency_key=key).first()
        if authorization is not None and authorization.created_at > deadline:
            continue  # its gateway call may still be running
        stale.append(StalePlacement(order, authorization))
    return stale


def placement_recover(*, stale: StalePlacement, actor: Actor, dry_run: bool = False) -> Recovery:
    """Resolve one stale placement from the gateway's answer (see the module docstring).
    `dry_run` asks the gateway (a lookup moves no money) and changes nothing."""
    authorization = stale.authorization
    if authorization is None:
        order = stale.order
        outcome = PLACED if order.total_amount_with_taxes_cents == 0 else ABORTED
        if not dry_run:
            order = order_placement_abandon(order_id=order.pk, actor=actor)
            outcome = _outcome_of(order)
        return Recovery(order, outcome, "no authorization was sent")
    result: GatewayResult | None
    if authorization.status != Transaction.Status.PENDING:
        # Settled, then the process died before the order moved (between the two
        # transactions): the answer is on record, nothing to ask; the resolve decides from it.
        result = None
        covered = authorization.amount_cents >= stale.order.total_amount_with_taxes_cents
        reason = f"{authorization.number} was settled {authorization.status}"
        outcome = PLACED if authorization.succeeded and covered else ABORTED
        if dry_run:
            return Recovery(stale.order, outcome, reason)
        order = order_placement_resolve(authorization=authorization, result=result, actor=actor)
        return Recovery(order, _outcome_of(order), reason)
    try:
        result = transaction_gateway_lookup(txn=authorization)
    except GatewayLookupFailed as exc:
        return Recovery(stale.order, LEFT, f"the gateway cannot tell ({exc.code}: {exc.detail})")
    if result is None:
        reason = f"the gateway never saw {authorization.number}"
        outcome = ABORTED
    elif result.succeeded:
        reason = f"the gateway authorized {authorization.number}"
        partial = result.amount_cents is not None and result.amount_cents < (
            authorization.amount_cents
        )
        outcome = ABORTED if partial else PLACED
    else:
        reason = f"the gateway refused {authorization.number} ({result.error_code})"
        outcome = ABORTED
    if dry_run:
        return Recovery(stale.order, outcome, reason)
    order = order_placement_resolve(authorization=authorization, result=result, actor=actor)
    return Recovery(order, _outcome_of(order), reason)


def _outcome_of(order: Order) -> str:
    if order.status == Order.Status.PLACED:
        return PLACED
    if order.status == Order.Status.PLACING:
        return LEFT
    return ABORTED


def placements_recover(*, actor: Actor, dry_run: bool = False) -> list[Recovery]:
    """Resolve every stale placement, one order at a time (each in its own transactions). One
    that fails unexpectedly is left placing and reported; the others are still resolved."""
    recoveries = []
    for stale in placements_stale():
        try:
            recoveries.append(placement_recover(stale=stale, actor=actor, dry_run=dry_run))
        except Exception as exc:
            logger.exception("recovering order #%s failed", stale.order.number)
            recoveries.append(
                Recovery(order=stale.order, outcome=LEFT, reason=f"{type(exc).__name__}: {exc}")
            )
    return recoveries
