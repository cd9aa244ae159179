"""URL patterns of the JSON:API resources (Commerce Layer's paths, no trailing slash)."""

from __future__ import annotations

from django.urls import URLPattern, path

from oms.api.views import ResourceViewSet


def resource_urls(*views: type[ResourceViewSet]) -> list[URLPattern]:
    patterns: list[URLPattern] = []
    for view in views:
        name = view.resource_name
        ResourceViewSet.registry[name] = view
        patterns += [
            path(
                f"{name}",
                view.as_view({"get": "list", "post": "create"}),
                name=f"{name}-list",
            ),
            path(
                f"{name}/<str:pk>",
                view.as_view(
                    {
                        "get": "retrieve",
                        "patch": "partial_update",
                        "put": "update",
                        "delete": "destroy",
                    }
                ),
                name=f"{name}-detail",
            ),
            path(
                f"{name}/<str:pk>/relationships/<str:related_field>",
                view.as_view({"get": "relationship"}),
                name=f"{name}-relationships",
            ),
            path(
                f"{name}/<str:pk>/<str:related_field>",
                view.as_view({"get": "related"}),
                name=f"{name}-related",
            ),
        ]
    return patterns
