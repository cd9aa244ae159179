"""Stable error codes of the markets app."""

from oms.errors import DomainError


class MarketDisabled(DomainError):
    code = "MARKET_DISABLED"


class OrganizationMissing(DomainError):
    code = "ORGANIZATION_MISSING"


class TaxRateInvalid(DomainError):
    """A tax rate that is not a number between 0 and 1 (0.22 is 22%)."""

    code = "TAX_RATE_INVALID"


class RegexInvalid(DomainError):
    """A tax rule's pattern that does not compile, or is longer than 5000 characters."""

    code = "REGEX_INVALID"


class SkuMissing(DomainError):
    """A record that needs a SKU was given neither the relationship nor `sku_code`."""

    code = "SKU_MISSING"


class TaxCategoryTaken(DomainError):
    """The calculator already has a tax category for this SKU (one per SKU and calculator)."""

    code = "TAX_CATEGORY_TAKEN"


class SkuListItemSkuTaken(DomainError):
    """A SKU is in a list once (its item's quantity says how many)."""

    code = "SKU_LIST_ITEM_SKU_TAKEN"
