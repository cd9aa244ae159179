from oms.api.routing import resource_urls
from oms.webhooks.api import views

urlpatterns = resource_urls(views.WebhookView, views.EventCallbackView, views.EventView)
