"""Order addresses: an order owns its shipping and billing addresses. A clone is a new row
with the same content, so editing an address book entry, or another order, never changes this
order's addresses (and placed orders keep the address they were placed with)."""

from __future__ import annotations

import copy

from markets.models import Address
from oms.countries import is_country_code
from oms.services import resource_save

# Countries without a postal code system: a missing zip code is not incomplete there.
# fmt: off
COUNTRIES_WITHOUT_ZIP_CODES = frozenset({
    "AE", "AG", "AO", "AW", "BF", "BI", "BJ", "BO", "BQ", "BS", "BW", "BZ", "CD", "CF",
    "CG", "CI", "CK", "CM", "CW", "DJ", "DM", "ER", "FJ", "GA", "GD", "GH", "GM", "GQ",
    "GY", "HK", "HM", "IE", "JM", "KI", "KM", "KN", "KP", "LY", "ML", "MO", "MR", "MW",
    "NR", "NU", "QA", "RW", "SB", "SC", "SL", "SR", "SS", "ST", "SX", "SY", "TD", "TF",
    "TG", "TK", "TL", "TO", "TT", "TV", "UG", "VU", "YE", "ZW",
})
# fmt: on

_NOT_COPIED = frozenset({"id", "created_at", "updated_at"})


def address_clone(address: Address) -> Address:
    """A new address row with the same content as `address`."""
    values = {
        field.attname: copy.deepcopy(getattr(address, field.attname))
        for field in Address._meta.concrete_fields
        if field.attname not in _NOT_COPIED
    }
    return resource_save(Address(**values))


def address_same_content(a: Address, b: Address) -> bool:
    """Whether two addresses say the same (ids, timestamps, reference and metadata aside)."""
    ignored = _NOT_COPIED | {"reference", "reference_origin", "metadata"}
    return all(
        getattr(a, field.attname) == getattr(b, field.attname)
        for field in Address._meta.concrete_fields
        if field.attname not in ignored
    )


def address_missing_fields(address: Address) -> list[str]:
    """What a shipping or billing address lacks to be complete (spec 2.2): a name (first and
    last name, or a company for a business), line_1, city, a zip code where the country has
    them, an ISO 3166-1 alpha-2 country code and a phone number."""
    missing: list[str] = []
    if address.business:
        if not address.company.strip():
            missing.append("company")
    else:
        missing.extend(
            name for name in ("first_name", "last_name") if not getattr(address, name).strip()
        )
    missing.extend(name for name in ("line_1", "city") if not getattr(address, name).strip())
    country = (address.country_code or "").strip().upper()
    if not is_country_code(country):
        missing.append("country_code")
    if not address.zip_code.strip() and country not in COUNTRIES_WITHOUT_ZIP_CODES:
        missing.append("zip_code")
    if not address.phone.strip():
        missing.append("phone")
    return missing
