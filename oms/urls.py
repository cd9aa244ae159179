from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from oms.api.docs import docs_view, schema_view
from oms.health import healthz, readyz

admin.site.site_header = "OMS back office"
admin.site.site_title = "OMS"
admin.site.index_title = "Run your business"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("oauth/", include("oms.oauth.urls")),
    path("api/schema/", schema_view, name="api-schema"),
    path("api/docs/", docs_view, name="api-docs"),
    path("api/", include("markets.api.urls")),
    path("api/", include("payments.api.urls")),
    path("api/", include("orders.api.urls")),
    path("api/", include("fulfillment.api.urls")),
    path("api/", include("oms.webhooks.api.urls")),
]

handler403 = "oms.admin.permission_denied"
