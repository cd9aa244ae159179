"""The JSON:API conventions of spec section 7, exercised on the catalog."""

from __future__ import annotations

import json

import pytest

from markets.models import Price, Sku
from oms.models import IdempotencyRecord
from tests import factories
from tests.api.conftest import JSONAPI, doc

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(market):
    """30 SKUs priced in the market, named SKU-000..SKU-029; a few with volume tiers."""
    category = factories.ShippingCategoryFactory.create(code="apparel")
    prices = []
    for i in range(30):
        sku = factories.SkuFactory.create(
            code=f"SKU-{i:03d}", name=f"Item {i}", shipping_category=category
        )
        prices.append(
            factories.PriceFactory.create(
                sku=sku, price_list=market.price_list, amount_cents=100 + i
            )
        )
    for price in prices[:3]:
        factories.PriceVolumeTierFactory.create(price=price, up_to=10, price_amount_cents=50)
    return prices


# --- media types -----------------------------------------------------------------------------


def test_wrong_accept_is_406(as_role, catalog):
    response = as_role("admin").get("/api/skus", HTTP_ACCEPT="text/html")
    assert response.status_code == 406
    assert response.doc["errors"][0]["code"] == "NOT_ACCEPTABLE"


@pytest.mark.parametrize("accept", [JSONAPI, "*/*", "application/*", f"text/html, {JSONAPI}"])
def test_acceptable_accept_headers(as_role, catalog, accept):
    assert as_role("admin").get("/api/skus", HTTP_ACCEPT=accept).status_code == 200


def test_wrong_body_content_type_is_415(as_role, catalog):
    api = as_role("admin")
    response = api.client.post(
        "/api/shipping_categories",
        data=json.dumps(doc("shipping_categories", {"name": "x"})),
        content_type="application/json",
        HTTP_ACCEPT=JSONAPI,
    )
    assert response.status_code == 415
    assert json.loads(response.content)["errors"][0]["code"] == "UNSUPPORTED_MEDIA_TYPE"


def test_get_may_carry_the_jsonapi_content_type(as_role, catalog):
    response = as_role("admin").client.get("/api/skus", CONTENT_TYPE=JSONAPI, HTTP_ACCEPT=JSONAPI)
    assert response.status_code == 200
    assert response["Content-Type"] == JSONAPI


# --- pagination ----------------------------------------------------------------------------


def test_default_page_is_ten_with_counts_and_links(as_role, catalog):
    response = as_role("sales_channel").get("/api/skus?sort=code")
    assert len(response.doc["data"]) == 10
    assert response.doc["meta"] == {"record_count": 30, "page_count": 3}
    assert set(response.doc["links"]) == {"first", "next", "last"}
    assert "page%5Bnumber%5D=2" in response.doc["links"]["next"]


def test_page_size_and_number(as_role, catalog):
    response = as_role("sales_channel").get("/api/skus?sort=code&page[size]=25&page[number]=2")
    assert [item["attributes"]["code"] for item in response.doc["data"]] == [
        f"SKU-{i:03d}" for i in range(25, 30)
    ]
    assert response.doc["meta"] == {"record_count": 30, "page_count": 2}
    assert "prev" in response.doc["links"]
    assert "next" not in response.doc["links"]


@pytest.mark.parametrize(
    "query", ["page[size]=26", "page[size]=0", "page[size]=x", "page[number]=-1"]
)
def test_bad_page_parameters_are_400(as_role, catalog, query):
    response = as_role("sales_channel").get(f"/api/skus?{query}")
    assert response.status_code == 400
    error = response.doc["errors"][0]
    assert error["code"] == "INVALID_PAGE_VALUE"
    assert error["source"]["parameter"].startswith("page[")


def test_page_past_the_end_is_empty(as_role, catalog):
    response = as_role("sales_channel").get("/api/skus?page[number]=9")
    assert response.status_code == 200
    assert response.doc["data"] == []


# --- sort, sparse fields, include ------------------------------------------------------------


def test_sort_descending_and_by_several_attributes(as_role, catalog):
    response = as_role("sales_channel").get("/api/prices?sort=-amount_cents,created_at")
    amounts = [p["attributes"]["amount_cents"] for p in response.doc["data"]]
    assert amounts == sorted(amounts, reverse=True)


def test_unknown_sort_attribute_is_400(as_role, catalog):
    response = as_role("sales_channel").get("/api/skus?sort=weight")
    assert response.status_code == 400
    assert response.doc["errors"][0]["code"] == "INVALID_SORT_CRITERIA"
    assert response.doc["errors"][0]["source"] == {"parameter": "sort"}


def test_sparse_fieldsets(as_role, catalog):
    response = as_role("sales_channel").get("/api/skus?fields[skus]=code,name")
    assert set(response.doc["data"][0]["attributes"]) == {"code", "name"}


def test_dotted_include(as_role, catalog):
    response = as_role("sales_channel").get(
        "/api/skus?filter[q][code_in]=SKU-000,SKU-001&include=prices.price_volume_tiers"
    )
    assert response.status_code == 200
    types = sorted({item["type"] for item in response.doc["included"]})
    assert types == ["price_volume_tiers", "prices"]
    sku = response.doc["data"][0]
    price_ids = [ref["id"] for ref in sku["relationships"]["prices"]["data"]]
    included_prices = {i["id"]: i for i in response.doc["included"] if i["type"] == "prices"}
    assert set(price_ids) <= set(included_prices)
    tiers = included_prices[price_ids[0]]["relationships"]["price_volume_tiers"]["data"]
    assert len(tiers) == 1


def test_unknown_include_is_400(as_role, catalog):
    response = as_role("sales_channel").get("/api/skus?include=sku_options")
    assert response.status_code == 400


def test_to_many_relationships_carry_data_only_when_included(as_role, catalog):
    sku = as_role("sales_channel").get("/api/skus?page[size]=1").doc["data"][0]
    assert "data" not in sku["relationships"]["prices"]
    assert sku["relationships"]["prices"]["links"]["related"].endswith(
        f"/api/skus/{sku['id']}/prices"
    )
    assert sku["relationships"]["shipping_category"]["data"]["type"] == "shipping_categories"


def test_unknown_query_parameter_is_400(as_role, catalog):
    response = as_role("sales_channel").get("/api/skus?colour=red")
    assert response.status_code == 400
    assert response.doc["errors"][0]["source"] == {"parameter": "colour"}


# --- filters (the Ransack translator has its own tests) -------------------------------------


def test_filter_start_and_or(as_role, catalog):
    api = as_role("sales_channel")
    response = api.get("/api/skus?filter[q][code_start]=SKU-02&page[size]=25")
    assert response.doc["meta"]["record_count"] == 10
    response = api.get("/api/skus?filter[q][name_or_code_cont]=Item 1")
    assert response.doc["meta"]["record_count"] == 11  # Item 1 and Item 10..19


def test_filter_on_a_relationship_attribute(as_role, catalog):
    response = as_role("sales_channel").get("/api/prices?filter[q][sku_code_in]=SKU-001,SKU-002")
    assert response.doc["meta"]["record_count"] == 2


def test_unknown_filter_attribute_is_400(as_role, catalog):
    response = as_role("sales_channel").get("/api/skus?filter[q][weight_gt]=1")
    assert response.status_code == 400
    assert response.doc["errors"][0]["source"]["parameter"] == "filter[q][weight_gt]"


# --- related and relationship endpoints ---------------------------------------------------------


def test_related_to_many_is_the_related_list(as_role, catalog):
    sku = catalog[0].sku
    response = as_role("sales_channel").get(f"/api/skus/{sku.id}/prices")
    assert response.status_code == 200
    assert [(p["type"], p["id"]) for p in response.doc["data"]] == [("prices", catalog[0].id)]
    assert response.doc["meta"]["record_count"] == 1


def test_related_to_one(as_role, catalog):
    price = catalog[0]
    response = as_role("sales_channel").get(f"/api/prices/{price.id}/sku")
    assert response.doc["data"]["id"] == price.sku_id
    assert response.doc["data"]["type"] == "skus"


def test_relationship_endpoint_gives_identifiers(as_role, catalog):
    price = catalog[0]
    api = as_role("sales_channel")
    response = api.get(f"/api/prices/{price.id}/relationships/sku")
    assert response.doc["data"] == {"type": "skus", "id": price.sku_id}
    response = api.get(f"/api/skus/{price.sku_id}/relationships/prices")
    assert response.doc["data"] == [{"type": "prices", "id": price.id}]


def test_unknown_relationship_is_404(as_role, catalog):
    response = as_role("sales_channel").get(f"/api/skus/{catalog[0].sku_id}/nothing")
    assert response.status_code == 404
    assert response.doc["errors"][0]["code"] == "RECORD_NOT_FOUND"


# --- scoping -----------------------------------------------------------------------------


def test_sales_channel_sees_only_its_market(as_role, catalog, other_market):
    foreign = factories.PriceFactory.create(price_list=other_market.price_list)
    shared_sku = catalog[0].sku
    factories.PriceFactory.create(sku=shared_sku, price_list=other_market.price_list)
    api = as_role("sales_channel")
    assert api.get(f"/api/skus/{foreign.sku_id}").status_code == 404
    assert api.get(f"/api/prices/{foreign.id}").status_code == 404
    assert api.get(f"/api/markets/{other_market.id}").status_code == 404
    included = api.get(f"/api/skus/{shared_sku.id}?include=prices").doc["included"]
    assert [p["attributes"]["currency_code"] for p in included] == ["EUR"]
    assert as_role("admin").get(f"/api/skus/{foreign.sku_id}").status_code == 200


def test_sales_channel_never_sees_the_market_shared_secret(as_role, market):
    assert (
        as_role("sales_channel")
        .get(f"/api/markets/{market.id}")
        .doc["data"]["attributes"]["shared_secret"]
        is None
    )
    assert (
        as_role("admin").get(f"/api/markets/{market.id}").doc["data"]["attributes"]["shared_secret"]
    )


# --- writes and errors ------------------------------------------------------------------------


def test_create_sku_and_price_with_sku_code(as_role, market):
    api = as_role("admin")
    category = factories.ShippingCategoryFactory.create()
    response = api.post(
        "/api/skus",
        doc(
            "skus",
            {"code": "MUG", "name": "Mug", "weight": 300, "unit_of_weight": "gr"},
            shipping_category=("shipping_categories", category.id),
        ),
    )
    assert response.status_code == 201, response.doc
    assert response.doc["data"]["attributes"]["weight"] == 300.0
    response = api.post(
        "/api/prices",
        doc(
            "prices",
            {"sku_code": "MUG", "amount_cents": 1250},
            price_list=("price_lists", market.price_list_id),
        ),
    )
    assert response.status_code == 201, response.doc
    assert response.doc["data"]["attributes"]["formatted_amount"] == "€12.50"
    assert Price.objects.get().sku.code == "MUG"


def test_validation_error_is_422_with_a_pointer(as_role, market):
    sku = factories.SkuFactory.create()
    response = as_role("admin").post(
        "/api/prices",
        doc(
            "prices",
            {"amount_cents": -5},
            price_list=("price_lists", market.price_list_id),
            sku=("skus", sku.id),
        ),
    )
    assert response.status_code == 422
    error = response.doc["errors"][0]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["source"]["pointer"] == "/data/attributes/amount_cents"
    assert not Price.objects.exists()


def test_duplicate_code_is_422(as_role):
    existing = factories.SkuFactory.create(code="DUP")
    response = as_role("admin").post(
        "/api/skus",
        doc(
            "skus",
            {"code": "DUP", "name": "x"},
            shipping_category=("shipping_categories", existing.shipping_category_id),
        ),
    )
    assert response.status_code == 422
    assert response.doc["errors"][0]["source"]["pointer"] == "/data/attributes/code"


def test_missing_required_relationship_points_at_it(as_role):
    response = as_role("admin").post("/api/skus", doc("skus", {"code": "A", "name": "x"}))
    assert response.status_code == 422
    assert response.doc["errors"][0]["source"]["pointer"] == "/data/relationships/shipping_category"


def test_unknown_related_id_is_422_not_500(as_role):
    response = as_role("admin").post(
        "/api/skus",
        doc("skus", {"code": "A", "name": "x"}, shipping_category=("shipping_categories", "nope")),
    )
    assert response.status_code == 422
    assert response.doc["errors"][0]["source"]["pointer"] == "/data/relationships/shipping_category"


def test_unknown_attribute_is_400_with_pointer(as_role):
    category = factories.ShippingCategoryFactory.create()
    response = as_role("admin").patch(
        f"/api/shipping_categories/{category.id}",
        doc("shipping_categories", {"colour": "red"}, id=category.id),
    )
    assert response.status_code == 400
    assert response.doc["errors"][0]["source"]["pointer"] == "/data/attributes/colour"


def test_read_only_attribute_cannot_be_sent(as_role, market):
    response = as_role("admin").patch(
        f"/api/markets/{market.id}", doc("markets", {"number": 99}, id=market.id)
    )
    assert response.status_code == 400
    assert response.doc["errors"][0]["code"] == "PARAM_NOT_ALLOWED"


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ("not json", "/"),
        ("[]", "/"),
        ("{}", "/data"),
        ('{"data": []}', "/data"),
        ('{"data": {"attributes": {}}}', "/data/type"),
        ('{"data": {"type": "skus", "attributes": []}}', "/data/attributes"),
        ('{"data": {"type": "skus", "relationships": "x"}}', "/data/relationships"),
        (
            '{"data": {"type": "skus", "relationships": {"shipping_category": 1}}}',
            "/data/relationships/shipping_category",
        ),
        (
            '{"data": {"type": "skus", "relationships": {"shipping_category": {"data": {"type": 1}}}}}',
            "/data/relationships/shipping_category/data/type",
        ),
        (
            '{"data": {"type": "skus", "relationships": {"shipping_category": {"data": [{"type": "x"}]}}}}',
            "/data/relationships/shipping_category/data/0/id",
        ),
        ('{"data": {"type": "skus", "id": 5}}', "/data/id"),
    ],
)
def test_malformed_documents_are_400_never_500(as_role, body, pointer):
    response = as_role("admin").post("/api/skus", body)
    assert response.status_code == 400, response.doc
    assert response.doc["errors"][0]["source"]["pointer"] == pointer


def test_wrong_type_is_409(as_role):
    response = as_role("admin").post("/api/skus", doc("prices", {"amount_cents": 1}))
    assert response.status_code == 409


def test_patch_id_must_match_url(as_role):
    category = factories.ShippingCategoryFactory.create()
    response = as_role("admin").patch(
        f"/api/shipping_categories/{category.id}",
        doc("shipping_categories", {"name": "x"}, id="other"),
    )
    assert response.status_code == 409


def test_put_is_405(as_role):
    category = factories.ShippingCategoryFactory.create()
    response = as_role("admin").client.put(
        f"/api/shipping_categories/{category.id}",
        data=json.dumps(doc("shipping_categories", {"name": "x"}, id=category.id)),
        content_type=JSONAPI,
        HTTP_ACCEPT=JSONAPI,
    )
    assert response.status_code == 405


@pytest.mark.parametrize("path", ["/api/skus/%00", "/api/skus/' OR 1=1", "/api/skus/" + "x" * 300])
def test_odd_ids_are_404(as_role, path):
    assert as_role("admin").get(path).status_code == 404


def test_delete_is_204_without_body(as_role):
    category = factories.ShippingCategoryFactory.create()
    response = as_role("admin").delete(f"/api/shipping_categories/{category.id}")
    assert response.status_code == 204
    assert response.content == b""


def test_delete_of_a_referenced_record_is_422(as_role):
    sku = factories.SkuFactory.create()
    response = as_role("admin").delete(f"/api/shipping_categories/{sku.shipping_category_id}")
    assert response.status_code == 422
    assert Sku.objects.filter(pk=sku.pk).exists()


# --- triggers ---------------------------------------------------------------------------------


def test_market_disable_and_enable_triggers(as_role, market):
    api = as_role("admin")
    response = api.patch(
        f"/api/markets/{market.id}", doc("markets", {"_disable": True}, id=market.id)
    )
    assert response.status_code == 200
    assert response.doc["data"]["attributes"]["disabled_at"] is not None
    response = api.patch(
        f"/api/markets/{market.id}", doc("markets", {"_enable": True}, id=market.id)
    )
    assert response.doc["data"]["attributes"]["disabled_at"] is None


# --- idempotency --------------------------------------------------------------------------------


def test_same_idempotency_key_and_body_replays_the_first_response(as_role):
    api = as_role("admin")
    body = doc("shipping_categories", {"name": "Fragile", "code": "fragile"})
    first = api.post("/api/shipping_categories", body, HTTP_IDEMPOTENCY_KEY="k-1")
    second = api.post("/api/shipping_categories", body, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == second.status_code == 201
    assert first.doc == second.doc
    assert second["Idempotent-Replayed"] == "true"
    assert IdempotencyRecord.objects.count() == 1
    from markets.models import ShippingCategory

    assert ShippingCategory.objects.filter(code="fragile").count() == 1


def test_same_idempotency_key_with_another_body_is_422(as_role):
    api = as_role("admin")
    api.post(
        "/api/shipping_categories",
        doc("shipping_categories", {"name": "A"}),
        HTTP_IDEMPOTENCY_KEY="k-2",
    )
    response = api.post(
        "/api/shipping_categories",
        doc("shipping_categories", {"name": "B"}),
        HTTP_IDEMPOTENCY_KEY="k-2",
    )
    assert response.status_code == 422
    assert response.doc["errors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_idempotency_keys_are_per_application(as_role, market):
    from oms.api.principal import Principal
    from tests.api.conftest import Api

    body = doc("shipping_categories", {"name": "A"})
    as_role("admin").post("/api/shipping_categories", body, HTTP_IDEMPOTENCY_KEY="shared")
    other = Api(Principal(application_id="another", kind="integration", role="admin"))
    response = other.post("/api/shipping_categories", body, HTTP_IDEMPOTENCY_KEY="shared")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response


def test_failed_request_is_replayed_too(as_role):
    api = as_role("admin")
    body = doc("shipping_categories", {"name": ""})
    first = api.post("/api/shipping_categories", body, HTTP_IDEMPOTENCY_KEY="k-3")
    second = api.post("/api/shipping_categories", body, HTTP_IDEMPOTENCY_KEY="k-3")
    assert first.status_code == second.status_code == 422
    assert first.doc == second.doc


def test_nul_characters_are_refused_before_the_database(as_role):
    category = factories.ShippingCategoryFactory.create()
    api = as_role("admin")
    response = api.post(
        "/api/skus",
        doc(
            "skus",
            {"code": "A\u0000", "name": "x"},
            shipping_category=("shipping_categories", category.id),
        ),
    )
    assert response.status_code == 400
    assert response.doc["errors"][0]["source"]["pointer"] == "/data/attributes/code"
    response = api.get("/api/skus?filter[q][code_eq]=%00")
    assert response.status_code == 400
