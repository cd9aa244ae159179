"""`GET /api/application`: the API application the token belongs to."""

from __future__ import annotations

from django.db.models import Model

from oms.api.permissions import SINGLETON
from oms.api.serializers import ResourceSerializer, TypedMethodField
from oms.api.views import ResourceViewSet
from oms.oauth.models import Application


class ApplicationSerializer(ResourceSerializer):
    public_access = TypedMethodField({"type": "boolean"})
    redirect_uri = TypedMethodField({"type": "string", "nullable": True})
    scopes = TypedMethodField({"type": "string"})

    class Meta:
        model = Application
        resource_name = "applications"
        singleton = True
        fields = ("name", "kind", "public_access", "redirect_uri", "scopes")
        read_only_fields = fields
        creatable = ()
        updatable = ()

    def get_public_access(self, application: Application) -> bool:
        return application.kind == Application.Kind.SALES_CHANNEL

    def get_redirect_uri(self, application: Application) -> None:
        return None

    def get_scopes(self, application: Application) -> str:
        principal = getattr(self.context.get("request"), "auth", None)
        return str(getattr(principal, "scope", ""))


class ApplicationView(ResourceViewSet):
    resource_name = "applications"
    serializer_class = ApplicationSerializer
    policy = SINGLETON

    def get_object(self) -> Model:
        return Application.objects.get(pk=self.principal.application_id)
