"""The OpenAPI document and the Swagger UI page."""

import json

import pytest

from tests.api.test_jsonapi import catalog  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    return json.loads(response.content)


def test_schema_describes_every_resource_and_its_endpoints(schema):
    paths = schema["paths"]
    for resource in ("skus", "prices", "markets", "price_volume_tiers", "addresses"):
        assert set(paths[f"/api/{resource}"]) == {"get", "post"}
        assert set(paths[f"/api/{resource}/{{id}}"]) == {"get", "patch", "delete"}
    assert "/api/skus/{id}/prices" in paths
    assert "/api/skus/{id}/relationships/shipping_category" in paths
    assert "/api/organization" in paths


def test_schema_documents_jsonapi_shapes(schema):
    list_doc = schema["components"]["schemas"]["skus_list_document"]
    assert set(list_doc["properties"]["meta"]["properties"]) == {"record_count", "page_count"}
    sku = schema["components"]["schemas"]["skus"]
    assert "code" in sku["properties"]["attributes"]["properties"]
    assert (
        sku["properties"]["relationships"]["properties"]["prices"]["properties"]["data"]["type"]
        == "array"
    )
    params = {p["name"] for p in schema["paths"]["/api/skus"]["get"]["parameters"]}
    assert {"filter[q]", "include", "fields[skus]", "sort", "page[number]", "page[size]"} <= params
    create = schema["paths"]["/api/skus"]["post"]["requestBody"]["content"][
        "application/vnd.api+json"
    ]
    attributes = create["schema"]["properties"]["data"]["properties"]["attributes"]
    assert set(attributes["required"]) == {"code", "name"}
    assert "422" in schema["paths"]["/api/skus"]["post"]["responses"]


def test_swagger_ui_is_served_from_local_assets(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "http" not in html.replace("http-equiv", "")  # no CDN


def test_schema_describes_fulfillment_and_its_links_to_shipments(schema):
    paths = schema["paths"]
    for resource in ("stock_locations", "stock_items", "shipping_methods", "parcels"):
        assert set(paths[f"/api/{resource}/{{id}}"]) == {"get", "patch", "delete"}
    assert "/api/skus/{id}/stock_items" in paths
    assert "/api/markets/{id}/inventory_model" in paths
    assert "/api/parcels/{id}/relationships/shipment" in paths
    assert "/api/parcels/{id}/shipment" in paths
    assert "/api/shipments/{id}/available_shipping_methods" in paths
    assert "/api/orders/{id}/available_payment_methods" in paths
    parcel = schema["components"]["schemas"]["parcels"]["properties"]["relationships"]
    assert parcel["properties"]["shipment"]["properties"]["data"]["properties"]["type"] == {
        "type": "string",
        "enum": ["shipments"],
    }
