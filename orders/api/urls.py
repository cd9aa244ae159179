from oms.api.routing import resource_urls
from orders.api import views
from orders.api.gift_cards import GiftCardView
from orders.api.promotions import PROMOTION_VIEWS
from orders.api.returns import ReturnLineItemView, ReturnView

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
    *PROMOTION_VIEWS,
    GiftCardView,
    ReturnView,
    ReturnLineItemView,
)
