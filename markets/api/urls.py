from django.urls import path

from markets.api import views
from oms.api.openapi import SINGLETONS
from oms.api.routing import resource_urls

SINGLETONS["organization"] = ("organizations", views.OrganizationView)

urlpatterns = [
    path(
        "organization",
        views.OrganizationView.as_view({"get": "retrieve"}),
        name="organization",
    ),
    *resource_urls(
        views.AddressView,
        views.MerchantView,
        views.CustomerGroupView,
        views.ShippingCategoryView,
        views.PriceListView,
        views.MarketView,
        views.SkuView,
        views.PriceView,
        views.PriceVolumeTierView,
    ),
]
