"""An address's check constraints are proved in Python by full_clean (no query, no savepoint),
and the database still enforces them."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from markets.models import Address

pytestmark = pytest.mark.django_db


def address(**fields: object) -> Address:
    values: dict[str, object] = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "line_1": "Damrak 1",
        "city": "Amsterdam",
        "zip_code": "1012 LG",
        "country_code": "NL",
        "phone": "+31 20 555 0100",
    }
    return Address(**(values | fields))


def test_full_clean_asks_the_database_nothing_for_the_check_constraints():
    with CaptureQueriesContext(connection) as captured:
        address().full_clean()
    # only the primary key's uniqueness is asked
    assert len(captured.captured_queries) == 1
    assert "_check" not in captured.captured_queries[0]["sql"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"first_name": ""}, "first_name"),
        ({"last_name": " "}, "last_name"),
        ({"business": True, "company": ""}, "company"),
    ],
)
def test_a_personal_address_needs_names_and_a_business_one_a_company(fields, field):
    with pytest.raises(ValidationError) as raised:
        address(**fields).full_clean()
    assert field in raised.value.message_dict


def test_the_database_still_refuses_what_clean_would():
    with pytest.raises(IntegrityError), transaction.atomic():
        address(first_name="").save()
    with pytest.raises(IntegrityError), transaction.atomic():
        address(business=True, company="").save()
