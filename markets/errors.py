"""Stable error codes of the markets app."""

from oms.errors import DomainError


class MarketDisabled(DomainError):
    code = "MARKET_DISABLED"


class OrganizationMissing(DomainError):
    code = "ORGANIZATION_MISSING"
