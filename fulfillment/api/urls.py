from fulfillment.api import views
from oms.api.routing import resource_urls

urlpatterns = resource_urls(
    views.StockLocationView,
    views.StockItemView,
    views.InventoryModelView,
    views.InventoryStockLocationView,
    views.InventoryReturnLocationView,
    views.StockReservationView,
    views.ShippingZoneView,
    views.ShippingMethodView,
    views.ShippingWeightTierView,
    views.DeliveryLeadTimeView,
    views.StockLineItemView,
    views.ParcelView,
)
