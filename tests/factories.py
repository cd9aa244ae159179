"""factory-boy factories for the catalog; they build through the model, saved via services."""

from __future__ import annotations

from typing import Any

import factory
from django.db.models import Model

from markets import models
from markets.services import market_save
from oms.oauth.models import Application
from oms.oauth.services import application_create
from oms.services import resource_save


class ServiceFactory[M: Model](factory.django.DjangoModelFactory[M]):
    """Saves through `resource_save` so factories obey the same rules as every other write."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        return resource_save(model_class(*args, **kwargs))


class OrganizationFactory(ServiceFactory[models.Organization]):
    class Meta:
        model = models.Organization
        django_get_or_create = ("slug",)

    name = "Test Org"
    slug = "test-org"

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        existing = model_class.objects.first()
        return existing or super()._create(model_class, *args, **kwargs)


class AddressFactory(ServiceFactory[models.Address]):
    class Meta:
        model = models.Address

    first_name = "Ada"
    last_name = "Lovelace"
    line_1 = factory.Sequence(lambda n: f"{n} Analytical Street")
    city = "London"
    zip_code = "N1 7GU"
    country_code = "GB"
    phone = "+44 20 7946 0000"


class MerchantFactory(ServiceFactory[models.Merchant]):
    class Meta:
        model = models.Merchant

    name = factory.Sequence(lambda n: f"Merchant {n}")
    address = factory.SubFactory(AddressFactory)


class ShippingCategoryFactory(ServiceFactory[models.ShippingCategory]):
    class Meta:
        model = models.ShippingCategory

    name = factory.Sequence(lambda n: f"Category {n}")
    code = factory.Sequence(lambda n: f"cat-{n}")


class CustomerGroupFactory(ServiceFactory[models.CustomerGroup]):
    class Meta:
        model = models.CustomerGroup

    name = factory.Sequence(lambda n: f"Group {n}")
    code = factory.Sequence(lambda n: f"group-{n}")


class PriceListFactory(ServiceFactory[models.PriceList]):
    class Meta:
        model = models.PriceList

    name = factory.Sequence(lambda n: f"Price list {n}")
    code = factory.Sequence(lambda n: f"pl-{n}")
    currency_code = "EUR"
    tax_included = True


class MarketFactory(ServiceFactory[models.Market]):
    class Meta:
        model = models.Market

    name = factory.Sequence(lambda n: f"Market {n}")
    code = factory.Sequence(lambda n: f"mkt-{n}")
    merchant = factory.SubFactory(MerchantFactory)
    price_list = factory.SubFactory(PriceListFactory)

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        return market_save(market=model_class(*args, **kwargs))


class SkuFactory(ServiceFactory[models.Sku]):
    class Meta:
        model = models.Sku

    code = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    shipping_category = factory.SubFactory(ShippingCategoryFactory)
    weight = 250
    unit_of_weight = "gr"


class PriceFactory(ServiceFactory[models.Price]):
    class Meta:
        model = models.Price

    sku = factory.SubFactory(SkuFactory)
    price_list = factory.SubFactory(PriceListFactory)
    amount_cents = 1000


class PriceVolumeTierFactory(ServiceFactory[models.PriceVolumeTier]):
    class Meta:
        model = models.PriceVolumeTier

    price = factory.SubFactory(PriceFactory)
    name = factory.Sequence(lambda n: f"Tier {n}")
    up_to = 10
    price_amount_cents = 900


class ApplicationFactory(factory.django.DjangoModelFactory[Application]):
    """Created through `application_create`; use the service directly when the test needs the
    integration's plain client secret (it exists only in its return value)."""

    class Meta:
        model = Application

    name = factory.Sequence(lambda n: f"Application {n}")
    kind = Application.Kind.SALES_CHANNEL
    role = ""
    market = None

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        return application_create(**kwargs).application
