"""A return follows its refund: when the refund it asked for succeeds, whoever settles it (the
refund's own workflow, or a merchant settling a stuck refund by hand with `_forward`), the
return becomes `refunded`. Its own module so that both the money workflow and the returns
workflow can call it."""

from __future__ import annotations

from fulfillment.events import return_status_changed_event
from fulfillment.locks import return_lock
from fulfillment.models import Return
from fulfillment.returns import return_fire
from oms.actors import Actor
from payments.models import Transaction


def return_refund_follow(*, refund: Transaction, actor: Actor) -> Return | None:
    """On the locked order, after `refund` settled: the received return that asked for it
    becomes `refunded` if the money went back. Returns the return it moved, if any."""
    if refund.type != Transaction.Type.REFUNDS or not refund.succeeded:
        return None
    ids = list(
        Return.objects.filter(
            reference_refund_id=refund.pk, status=Return.Status.RECEIVED
        ).values_list("pk", flat=True)
    )
    if not ids:
        return None
    locked = return_lock(ids[0])
    if locked.status != Return.Status.RECEIVED or locked.reference_refund_id != refund.pk:
        return None
    from_status, to_status = return_fire(ret=locked, trigger="_refund")
    return_status_changed_event(
        ret=locked, trigger="_refund", from_status=from_status, to_status=to_status, actor=actor
    )
    return locked
