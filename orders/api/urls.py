from oms.api.routing import resource_urls
from orders.api import views

urlpatterns = resource_urls(
    views.CustomerView,
    views.CustomerAddressView,
    views.CustomerPaymentSourceView,
    views.CustomerPasswordResetView,
    views.AddressView,
    views.OrderView,
    views.LineItemView,
    views.ShipmentView,
    views.WireTransferView,
    views.ExternalPaymentView,
    views.TestPaymentView,
    views.OrderAuthorizationView,
    views.OrderCaptureView,
)
