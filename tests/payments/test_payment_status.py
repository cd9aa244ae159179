"""`payment_status_for` implements the table of spec 2.3, evaluated top-down.

T = order total, A = authorized, C = captured, V = voided, R = refunded (succeeded amounts).
"""

import pytest

from orders.statuses import payment_status_for

# (case, T, placed, A, C, V, R, expected)
TABLE = [
    # row 1: order placed and T == 0 -> free (whatever else)
    ("placed, zero total", 0, True, 0, 0, 0, 0, "free"),
    ("placed, zero total wins over transactions", 0, True, 500, 500, 0, 0, "free"),
    # row 2: A == 0 -> unpaid
    ("draft, zero total is not free", 0, False, 0, 0, 0, 0, "unpaid"),
    ("nothing authorized", 1000, True, 0, 0, 0, 0, "unpaid"),
    ("nothing authorized, not placed", 1000, False, 0, 0, 0, 0, "unpaid"),
    # row 3: R > 0 -> refunded if R >= C else partially_refunded
    ("all captured refunded", 1000, True, 1000, 1000, 0, 1000, "refunded"),
    ("partial capture fully refunded", 1000, True, 1000, 400, 600, 400, "refunded"),
    ("part of the capture refunded", 1000, True, 1000, 1000, 0, 1, "partially_refunded"),
    ("refund short of capture by one cent", 1000, True, 1000, 1000, 0, 999, "partially_refunded"),
    ("refund beats voids", 1000, True, 1000, 500, 500, 200, "partially_refunded"),
    # row 4: C > 0 -> paid if C >= T else partially_paid
    ("fully captured", 1000, True, 1000, 1000, 0, 0, "paid"),
    ("captured more than the current total", 800, True, 1000, 1000, 0, 0, "paid"),
    ("partly captured", 1000, True, 1000, 999, 0, 0, "partially_paid"),
    ("partly captured, rest voided", 1000, True, 1000, 400, 600, 0, "partially_paid"),
    # row 5: V > 0 -> voided if V >= A else partially_voided
    ("fully voided", 1000, True, 1000, 0, 1000, 0, "voided"),
    ("partly voided", 1000, True, 1000, 0, 300, 0, "partially_voided"),
    # row 6: A >= T -> authorized else partially_authorized
    ("fully authorized", 1000, True, 1000, 0, 0, 0, "authorized"),
    ("authorized more than the total", 1000, True, 1200, 0, 0, 0, "authorized"),
    ("partly authorized", 1000, True, 999, 0, 0, 0, "partially_authorized"),
    ("authorized, not placed yet", 1000, False, 1000, 0, 0, 0, "authorized"),
    ("one cent authorized", 1, True, 1, 0, 0, 0, "authorized"),
]


@pytest.mark.parametrize(
    ("total", "placed", "authorized", "captured", "voided", "refunded", "expected"),
    [row[1:] for row in TABLE],
    ids=[row[0] for row in TABLE],
)
def test_payment_status_follows_the_spec_table(
    total, placed, authorized, captured, voided, refunded, expected
):
    assert (
        payment_status_for(
            order_total_cents=total,
            order_placed=placed,
            authorized_cents=authorized,
            captured_cents=captured,
            voided_cents=voided,
            refunded_cents=refunded,
        )
        == expected
    )


def test_every_payment_status_value_is_reachable():
    reached = {row[-1] for row in TABLE}
    assert reached == {
        "free",
        "unpaid",
        "refunded",
        "partially_refunded",
        "paid",
        "partially_paid",
        "voided",
        "partially_voided",
        "authorized",
        "partially_authorized",
    }


@pytest.mark.parametrize("field", ["order_total_cents", "authorized_cents", "refunded_cents"])
def test_negative_amounts_are_a_bug_not_a_status(field):
    amounts = {
        "order_total_cents": 100,
        "authorized_cents": 100,
        "captured_cents": 0,
        "voided_cents": 0,
        "refunded_cents": 0,
    }
    amounts[field] = -1
    with pytest.raises(ValueError, match="never negative"):
        payment_status_for(order_placed=True, **amounts)  # type: ignore[arg-type]
