"""`/api/schema/` (the OpenAPI document) and `/api/docs/` (Swagger UI from local assets)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from oms.api.openapi import build_schema


@require_GET
def schema_view(request: HttpRequest) -> HttpResponse:
    return JsonResponse(build_schema(), content_type="application/vnd.oai.openapi+json")


@require_GET
def docs_view(request: HttpRequest) -> HttpResponse:
    return render(request, "api/docs.html", {"schema_url": "/api/schema/"})
