from django.urls import path

from markets.api import taxes, views
from markets.api.sku_lists import SKU_LIST_VIEWS
from oms.api.openapi import SINGLETONS
from oms.api.routing import resource_urls
from oms.oauth.api import ApplicationView

SINGLETONS["organization"] = ("organizations", views.OrganizationView)
SINGLETONS["application"] = ("applications", ApplicationView)

urlpatterns = [
    path(
        "organization",
        views.OrganizationView.as_view({"get": "retrieve"}),
        name="organization",
    ),
    path("application", ApplicationView.as_view({"get": "retrieve"}), name="application"),
    *resource_urls(
        views.MerchantView,
        views.CustomerGroupView,
        views.ShippingCategoryView,
        views.PriceListView,
        views.MarketView,
        views.SkuView,
        views.PriceView,
        views.PriceVolumeTierView,
        *SKU_LIST_VIEWS,
        taxes.TaxCalculatorView,
        taxes.ManualTaxCalculatorView,
        taxes.TaxRuleView,
        taxes.TaxCategoryView,
    ),
]
