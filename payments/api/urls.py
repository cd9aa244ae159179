from oms.api.routing import resource_urls
from payments.api import views

urlpatterns = resource_urls(
    views.PaymentMethodView,
    views.PaymentGatewayView,
    views.ManualGatewayView,
    views.ExternalGatewayView,
    views.TransactionView,
    views.AuthorizationView,
    views.CaptureView,
    views.VoidView,
    views.RefundView,
)
