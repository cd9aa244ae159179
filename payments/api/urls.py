from oms.api.routing import resource_urls
from payments.api import views

# authorizations and captures are served by the orders API, whose triggers also move the
# order's statuses (orders builds on payments, not the reverse)
urlpatterns = resource_urls(
    views.PaymentMethodView,
    views.PaymentGatewayView,
    views.ManualGatewayView,
    views.ExternalGatewayView,
    views.TransactionView,
    views.VoidView,
    views.RefundView,
)
