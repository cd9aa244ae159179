"""Returning customers through the API (issue 11): a storefront signs a customer up and resets
a password; a customer token keeps its address book and wallet; nothing of another customer
is visible or usable, by id or through `include`, and a sales channel sees none of it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from oms.oauth.models import RefreshToken
from oms.ratelimit import rate_limit_hit
from orders.models import Customer, CustomerAddress, CustomerPasswordReset, CustomerPaymentSource
from orders.services.customers import customer_authenticate
from orders.services.wallet import customer_payment_source_create
from payments.models import PaymentMethod
from tests import factories
from tests.api.conftest import Api, doc
from tests.api.world import World, build_world
from tests.payments import factories as money

pytestmark = pytest.mark.django_db

STOREFRONTS = ("sales_channel_a", "sales_channel_b")


@dataclass
class Wallets:
    world: World
    method: PaymentMethod
    ada_card: CustomerPaymentSource
    bob_card: CustomerPaymentSource


@pytest.fixture(scope="module")
def wallets(django_db_setup: None, django_db_blocker: Any) -> Iterator[Wallets]:
    with django_db_blocker.unblock(), transaction.atomic():
        world = build_world()
        method = money.PaymentMethodFactory.create(market=world.market_a, currency_code="EUR")
        yield Wallets(
            world=world,
            method=method,
            ada_card=customer_payment_source_create(
                customer=world.ada, payment_method=method, payment_source_token="tok_success"
            ),
            bob_card=customer_payment_source_create(
                customer=world.bob, payment_method=method, payment_source_token="tok_bob"
            ),
        )
        transaction.set_rollback(True)


@pytest.fixture
def w(wallets: Wallets, db: None) -> Wallets:
    return wallets


@pytest.fixture(autouse=True)
def _no_signup_limit(settings: Any) -> None:
    settings.OMS_SIGNUP_RATE_PER_IP = ""


def _error(response: Any) -> dict[str, Any]:
    [error] = response.doc["errors"]
    return dict(error)


# --- sign-up ----------------------------------------------------------------------------------


def test_a_sales_channel_signs_a_customer_up_who_can_then_log_in(w):
    response = w.world.api("sales_channel_a").post(
        "/api/customers",
        doc("customers", {"email": "New@Example.com", "password": "correct horse"}),
    )
    assert response.status_code == 201, response.doc
    attributes = response.doc["data"]["attributes"]
    assert attributes["email"] == "new@example.com"
    assert attributes["has_password"] is True
    assert "password" not in attributes
    assert customer_authenticate(
        application=None, markets=[], username="new@example.com", password="correct horse"
    )
    # and reading it afterwards is the customer's own token's business
    again = w.world.api("sales_channel_a").get(f"/api/customers/{response.doc['data']['id']}")
    assert again.status_code == 401


@pytest.mark.parametrize("email", ["ada@example.com", "ADA@example.com "])
def test_sign_up_with_a_taken_email_is_a_422_and_changes_nothing(w, email):
    before = Customer.objects.get(pk=w.world.ada.pk)
    response = w.world.api("sales_channel_a").post(
        "/api/customers", doc("customers", {"email": email, "password": "correct horse"})
    )
    assert response.status_code == 422
    error = _error(response)
    assert error["code"] == "VALIDATION_ERROR"
    assert error["source"]["pointer"] == "/data/attributes/email"
    assert "taken" in error["detail"]
    after = Customer.objects.get(pk=w.world.ada.pk)
    assert after.password_hash == before.password_hash
    assert Customer.objects.count() == 2


def test_an_integration_creating_a_taken_email_gets_the_same_422(w):
    response = w.world.api("admin").post(
        "/api/customers", doc("customers", {"email": "bob@example.com"})
    )
    assert response.status_code == 422
    assert _error(response)["source"]["pointer"] == "/data/attributes/email"


@pytest.mark.parametrize(
    ("attributes", "pointer"),
    [
        ({"email": "x@example.com"}, "/data/attributes/password"),
        ({"email": "x@example.com", "password": "short"}, "/data/attributes/password"),
        ({"email": "not an e-mail", "password": "correct horse"}, "/data/attributes/email"),
    ],
)
def test_a_bad_sign_up_is_a_422_with_its_pointer(w, attributes, pointer):
    response = w.world.api("sales_channel_a").post("/api/customers", doc("customers", attributes))
    assert response.status_code == 422
    assert _error(response)["source"]["pointer"] == pointer
    assert not Customer.objects.filter(email="x@example.com").exists()


def test_a_storefront_cannot_sign_a_customer_into_a_group(w):
    group = factories.CustomerGroupFactory.create()
    response = w.world.api("sales_channel_a").post(
        "/api/customers",
        doc(
            "customers",
            {"email": "grp@example.com", "password": "correct horse"},
            customer_group=("customer_groups", group.pk),
        ),
    )
    assert response.status_code == 401
    assert not Customer.objects.filter(email="grp@example.com").exists()


def test_sign_up_is_rate_limited_per_ip(w, settings, pinned_rate_clock):
    settings.OMS_SIGNUP_RATE_PER_IP = "2/min"
    api = w.world.api("sales_channel_a")
    codes = [
        api.post(
            "/api/customers",
            doc("customers", {"email": f"r{n}@example.com", "password": "correct horse"}),
        ).status_code
        for n in range(3)
    ]
    assert codes == [201, 201, 429]
    assert not Customer.objects.filter(email="r2@example.com").exists()
    # counted in the shared store, not in this process
    assert not rate_limit_hit("customer_signup_ip:127.0.0.1", limit=2, window=60).allowed


def test_integrations_are_not_rate_limited(w, settings):
    settings.OMS_SIGNUP_RATE_PER_IP = "1/min"
    api = w.world.api("admin")
    for n in range(3):
        response = api.post("/api/customers", doc("customers", {"email": f"i{n}@example.com"}))
        assert response.status_code == 201


# --- password resets --------------------------------------------------------------------------


def _reset_request(api: Api, email: str) -> Any:
    return api.post(
        "/api/customer_password_resets", doc("customer_password_resets", {"customer_email": email})
    )


def _mailed_token() -> str:
    [message] = mail.outbox
    match = re.search(r"Reset token: (\S+)", str(message.body))
    assert match is not None
    return match.group(1)


NEW_PASSWORD = "a new password"


def _reset(api: Api, reset_id: str, token: str, password: str = NEW_PASSWORD) -> Any:
    return api.patch(
        f"/api/customer_password_resets/{reset_id}",
        doc(
            "customer_password_resets",
            {"customer_password": password, "_reset_password_token": token},
            id=reset_id,
        ),
    )


def test_a_password_reset_mails_a_single_use_token(w, django_capture_on_commit_callbacks):
    api = w.world.api("sales_channel_a")
    with django_capture_on_commit_callbacks(execute=True):
        response = _reset_request(api, "Ada@example.com")
    assert response.status_code == 201, response.doc
    reset_id = response.doc["data"]["id"]
    assert response.doc["data"]["attributes"]["reset_password_token"] is None  # mailbox only
    assert mail.outbox[0].to == ["ada@example.com"]
    token = _mailed_token()
    assert token not in str(response.doc)
    assert CustomerPasswordReset.objects.get(pk=reset_id).token_hash != token

    wrong = _reset(api, reset_id, "not-the-token")
    assert wrong.status_code == 422
    assert _error(wrong)["code"] == "RESET_PASSWORD_TOKEN_INVALID"
    assert _error(wrong)["source"]["pointer"] == "/data/attributes/_reset_password_token"

    session = RefreshToken.objects.create(
        token_hash="0" * 64,
        family="f",
        application=factories.ApplicationFactory.create(),
        owner_type="Customer",
        owner_id=w.world.ada.pk,
        expires_at=timezone.now() + timedelta(days=1),
    )
    done = _reset(api, reset_id, token)
    assert done.status_code == 200, done.doc
    session.refresh_from_db()
    assert session.revoked_at is not None  # the old password's sessions end
    assert done.doc["data"]["attributes"]["reset_password_at"]
    assert customer_authenticate(
        application=None, markets=[], username="ada@example.com", password="a new password"
    )

    again = _reset(api, reset_id, token, password="yet another one")
    assert again.status_code == 422
    assert _error(again)["code"] == "RESET_PASSWORD_TOKEN_INVALID"
    assert not customer_authenticate(
        application=None, markets=[], username="ada@example.com", password="yet another one"
    )


def test_an_expired_reset_token_is_refused(w, django_capture_on_commit_callbacks):
    api = w.world.api("sales_channel_a")
    with django_capture_on_commit_callbacks(execute=True):
        reset_id = _reset_request(api, "bob@example.com").doc["data"]["id"]
    token = _mailed_token()
    CustomerPasswordReset.objects.filter(pk=reset_id).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = _reset(api, reset_id, token)
    assert response.status_code == 422
    assert _error(response)["code"] == "RESET_PASSWORD_TOKEN_INVALID"
    assert not customer_authenticate(
        application=None, markets=[], username="bob@example.com", password="a new password"
    )


def test_a_reset_for_an_unknown_email_answers_the_same_and_mails_nothing(
    w, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _reset_request(w.world.api("sales_channel_a"), "nobody@example.com")
    assert response.status_code == 201
    assert mail.outbox == []
    assert not Customer.objects.filter(email="nobody@example.com").exists()


def test_a_reset_with_a_short_password_changes_nothing(w, django_capture_on_commit_callbacks):
    api = w.world.api("sales_channel_a")
    with django_capture_on_commit_callbacks(execute=True):
        reset_id = _reset_request(api, "ada@example.com").doc["data"]["id"]
    response = _reset(api, reset_id, _mailed_token(), password="short")
    assert response.status_code == 422
    assert _error(response)["source"]["pointer"] == "/data/attributes/customer_password"
    assert CustomerPasswordReset.objects.get(pk=reset_id).reset_password_at is None


@pytest.mark.parametrize("role", ["sales_channel_a", "customer_a"])
def test_a_storefront_cannot_read_password_resets(w, role):
    reset_id = _reset_request(w.world.api("sales_channel_a"), "ada@example.com").doc["data"]["id"]
    api = w.world.api(role)
    assert api.get("/api/customer_password_resets").status_code == 401
    assert api.get(f"/api/customer_password_resets/{reset_id}").status_code == 401


# --- the address book -------------------------------------------------------------------------


def _new_address(api: Api, **attributes: Any) -> str:
    response = api.post(
        "/api/addresses",
        doc(
            "addresses",
            {
                "first_name": "Ada",
                "last_name": "Lovelace",
                "line_1": "12 Analytical Row",
                "city": "London",
                "zip_code": "N1 1AA",
                "country_code": "GB",
                "phone": "+44 20 0000 0000",
                **attributes,
            },
        ),
    )
    assert response.status_code == 201, response.doc
    return str(response.doc["data"]["id"])


def test_a_customer_creates_updates_and_deletes_its_address_book_entries(w):
    api = w.world.api("customer_a")
    address_id = _new_address(api)
    created = api.post(
        "/api/customer_addresses",
        doc(
            "customer_addresses",
            customer=("customers", w.world.ada.pk),
            address=("addresses", address_id),
        ),
    )
    assert created.status_code == 201, created.doc
    entry_id = created.doc["data"]["id"]
    assert created.doc["data"]["attributes"]["customer_email"] == "ada@example.com"
    # its address is the customer's to change
    changed = api.patch(
        f"/api/addresses/{address_id}", doc("addresses", {"city": "Cambridge"}, id=address_id)
    )
    assert changed.status_code == 200, changed.doc
    # and the entry can point at another address
    other_id = _new_address(api, line_1="1 Other Street")
    moved = api.patch(
        f"/api/customer_addresses/{entry_id}",
        doc("customer_addresses", id=entry_id, address=("addresses", other_id)),
    )
    assert moved.status_code == 200, moved.doc
    assert moved.doc["data"]["relationships"]["address"]["data"]["id"] == other_id
    listed = api.get("/api/customer_addresses")
    assert {r["id"] for r in listed.doc["data"]} == {entry_id, w.world.ada_book.pk}
    assert api.delete(f"/api/customer_addresses/{entry_id}").status_code == 204
    assert not CustomerAddress.objects.filter(pk=entry_id).exists()


def test_a_customer_cannot_write_into_another_customers_address_book(w):
    api = w.world.api("customer_a")
    address_id = _new_address(api)
    response = api.post(
        "/api/customer_addresses",
        doc(
            "customer_addresses",
            customer=("customers", w.world.bob.pk),
            address=("addresses", address_id),
        ),
    )
    assert response.status_code in (401, 422)  # Bob is not a customer this token may name
    assert not CustomerAddress.objects.filter(customer=w.world.bob, address_id=address_id).exists()


def test_a_customer_cannot_use_another_customers_address(w):
    bobs_address = w.world.bob_book.address_id
    response = w.world.api("customer_a").post(
        "/api/customer_addresses",
        doc(
            "customer_addresses",
            customer=("customers", w.world.ada.pk),
            address=("addresses", bobs_address),
        ),
    )
    assert response.status_code == 422
    assert _error(response)["code"] == "ADDRESS_NOT_FOUND"
    assert _error(response)["source"]["pointer"] == "/data/relationships/address"
    assert not CustomerAddress.objects.filter(
        customer=w.world.ada, address_id=bobs_address
    ).exists()


def test_a_customer_cannot_read_change_or_delete_another_customers_entry(w):
    api = w.world.api("customer_a")
    entry = w.world.bob_book
    assert api.get(f"/api/customer_addresses/{entry.pk}").status_code == 404
    assert (
        api.patch(
            f"/api/customer_addresses/{entry.pk}",
            doc("customer_addresses", {"reference": "mine"}, id=entry.pk),
        ).status_code
        == 404
    )
    assert api.delete(f"/api/customer_addresses/{entry.pk}").status_code == 404
    assert api.get(f"/api/addresses/{entry.address_id}").status_code == 404
    assert CustomerAddress.objects.filter(pk=entry.pk, reference="").exists()


@pytest.mark.parametrize("role", STOREFRONTS)
def test_a_sales_channel_sees_no_address_book(w, role):
    api = w.world.api(role)
    assert api.get("/api/customer_addresses").status_code == 401
    assert api.get(f"/api/customer_addresses/{w.world.ada_book.pk}").status_code == 401
    assert api.delete(f"/api/customer_addresses/{w.world.ada_book.pk}").status_code == 401
    created = api.post(
        "/api/customer_addresses",
        doc(
            "customer_addresses",
            customer=("customers", w.world.ada.pk),
            address=("addresses", w.world.ada_book.address_id),
        ),
    )
    assert created.status_code == 401


# --- the wallet -------------------------------------------------------------------------------


def test_a_customer_lists_and_reads_only_its_own_wallet(w):
    api = w.world.api("customer_a")
    listed = api.get("/api/customer_payment_sources")
    assert listed.status_code == 200
    assert [r["id"] for r in listed.doc["data"]] == [w.ada_card.pk]
    assert listed.doc["data"][0]["attributes"]["payment_source_token"] == "tok_success"
    assert api.get(f"/api/customer_payment_sources/{w.ada_card.pk}").status_code == 200
    assert api.get(f"/api/customer_payment_sources/{w.bob_card.pk}").status_code == 404
    filtered = api.get(f"/api/customer_payment_sources?filter[q][customer_id_eq]={w.world.bob.pk}")
    assert filtered.doc["data"] == []


def test_a_customer_cannot_delete_another_customers_payment_source(w):
    response = w.world.api("customer_a").delete(f"/api/customer_payment_sources/{w.bob_card.pk}")
    assert response.status_code == 404
    assert CustomerPaymentSource.objects.filter(pk=w.bob_card.pk).exists()


def test_a_customer_removes_a_payment_source_from_its_wallet(w):
    api = w.world.api("customer_a")
    assert api.delete(f"/api/customer_payment_sources/{w.ada_card.pk}").status_code == 204
    assert not CustomerPaymentSource.objects.filter(pk=w.ada_card.pk).exists()


def test_a_customer_saves_a_token_but_never_a_card_number(w):
    api = w.world.api("customer_a")

    def save(token: str, customer: str | None = None) -> Any:
        return api.post(
            "/api/customer_payment_sources",
            doc(
                "customer_payment_sources",
                {"payment_source_token": token},
                customer=("customers", customer or w.world.ada.pk),
                payment_method=("payment_methods", w.method.pk),
            ),
        )

    assert save("tok_new").status_code == 201
    card = save("4242424242424242")
    assert card.status_code == 422
    assert _error(card)["source"]["pointer"] == "/data/attributes/payment_source_token"
    assert save("tok_for_bob", customer=w.world.bob.pk).status_code == 401
    assert not CustomerPaymentSource.objects.filter(
        customer=w.world.bob, payment_source_token="tok_for_bob"
    ).exists()


@pytest.mark.parametrize("role", STOREFRONTS)
def test_a_sales_channel_sees_no_wallet(w, role):
    api = w.world.api(role)
    assert api.get("/api/customer_payment_sources").status_code == 401
    assert api.get(f"/api/customer_payment_sources/{w.ada_card.pk}").status_code == 401
    assert api.delete(f"/api/customer_payment_sources/{w.ada_card.pk}").status_code == 401


def test_include_never_reaches_another_customers_wallet_or_book(w):
    own = w.world.api("customer_a").get(
        f"/api/customers/{w.world.ada.pk}?include=customer_payment_sources,customer_addresses"
    )
    assert own.status_code == 200
    included = {(r["type"], r["id"]) for r in own.doc["included"]}
    assert ("customer_payment_sources", w.ada_card.pk) in included
    assert ("customer_payment_sources", w.bob_card.pk) not in included
    assert ("customer_addresses", w.world.bob_book.pk) not in included
    other = w.world.api("customer_b").get(
        f"/api/customers/{w.world.ada.pk}?include=customer_payment_sources"
    )
    assert other.status_code == 404
    assert "included" not in other.doc


@pytest.mark.parametrize("role", ["sales_channel_a", "customer_b"])
def test_an_orders_available_customer_payment_sources_are_its_customers_only(w, role):
    cart = w.world.cart_a  # Ada's cart (a storefront made it with her e-mail)
    response = w.world.api(role).get(
        f"/api/orders/{cart.pk}?include=available_customer_payment_sources"
    )
    if role == "customer_b":
        assert response.status_code == 404
        return
    assert response.status_code == 200
    assert response.doc["data"]["relationships"]["available_customer_payment_sources"]["data"] == []
    assert "included" not in response.doc or not any(
        r["type"] == "customer_payment_sources" for r in response.doc["included"]
    )
    related = w.world.api(role).get(f"/api/orders/{cart.pk}/available_customer_payment_sources")
    assert related.status_code == 401


def test_a_customers_cart_lists_its_saved_sources(w):
    cart = w.world.cart_a
    response = w.world.api("customer_a").get(
        f"/api/orders/{cart.pk}?include=available_customer_payment_sources"
    )
    assert response.status_code == 200
    linkage = response.doc["data"]["relationships"]["available_customer_payment_sources"]["data"]
    assert linkage == [{"type": "customer_payment_sources", "id": w.ada_card.pk}]
    related = w.world.api("customer_a").get(
        f"/api/orders/{cart.pk}/available_customer_payment_sources"
    )
    assert [r["id"] for r in related.doc["data"]] == [w.ada_card.pk]


# --- the order's triggers through the API --------------------------------------------------------


@pytest.mark.parametrize(
    "attribute",
    [
        "_save_payment_source_to_customer_wallet",
        "_save_shipping_address_to_customer_address_book",
        "_save_billing_address_to_customer_address_book",
    ],
)
def test_a_sales_channel_cannot_save_to_a_customers_book_or_wallet(w, attribute):
    cart = w.world.cart_a
    response = w.world.api("sales_channel_a").patch(
        f"/api/orders/{cart.pk}", doc("orders", {attribute: True}, id=cart.pk)
    )
    assert response.status_code == 401
    assert _error(response)["source"]["pointer"] == f"/data/attributes/{attribute}"
    cart.refresh_from_db()
    assert not getattr(cart, attribute.removeprefix("_"))


def test_a_customer_sets_the_save_triggers_of_its_cart(w):
    cart = w.world.cart_a
    response = w.world.api("customer_a").patch(
        f"/api/orders/{cart.pk}",
        doc(
            "orders",
            {
                "_save_payment_source_to_customer_wallet": True,
                "_save_shipping_address_to_customer_address_book": True,
            },
            id=cart.pk,
        ),
    )
    assert response.status_code == 200, response.doc
    cart.refresh_from_db()
    assert cart.save_payment_source_to_customer_wallet
    assert cart.save_shipping_address_to_customer_address_book
    assert not cart.save_billing_address_to_customer_address_book


def test_a_customer_cannot_pay_with_another_customers_saved_source(w):
    cart = w.world.cart_a
    response = w.world.api("customer_a").patch(
        f"/api/orders/{cart.pk}",
        doc("orders", {"_customer_payment_source_id": w.bob_card.pk}, id=cart.pk),
    )
    assert response.status_code == 422
    assert _error(response)["code"] == "CUSTOMER_PAYMENT_SOURCE_NOT_FOUND"
    assert _error(response)["source"]["pointer"] == "/data/attributes/_customer_payment_source_id"
    cart.refresh_from_db()
    assert cart.payment_method_id is None


def test_a_customer_pays_its_cart_with_a_saved_source_and_reads_it_as_payment_source(w):
    cart = w.world.cart_a
    api = w.world.api("customer_a")
    response = api.patch(
        f"/api/orders/{cart.pk}?include=payment_source,payment_method",
        doc("orders", {"_customer_payment_source_id": w.ada_card.pk}, id=cart.pk),
    )
    assert response.status_code == 200, response.doc
    data = response.doc["data"]
    assert data["relationships"]["payment_method"]["data"]["id"] == w.method.pk
    linkage = data["relationships"]["payment_source"]["data"]
    assert linkage["type"] == "test_payments"
    [source] = [r for r in response.doc["included"] if r["type"] == "test_payments"]
    assert source["id"] == linkage["id"]
    assert source["attributes"]["token"] == "tok_success"
    # the relationship and related endpoints
    rel = api.get(f"/api/orders/{cart.pk}/relationships/payment_source")
    assert rel.doc["data"] == linkage
    related = api.get(f"/api/orders/{cart.pk}/payment_source")
    assert related.status_code == 200
    assert related.doc["data"]["type"] == "test_payments"
    assert related.doc["data"]["id"] == linkage["id"]


def test_an_order_without_payment_source_includes_none(w):
    response = w.world.api("admin").get(f"/api/orders/{w.world.cart_a.pk}?include=payment_source")
    assert response.status_code == 200
    assert response.doc["data"]["relationships"]["payment_source"]["data"] is None
    assert w.world.api("admin").get(f"/api/orders/{w.world.cart_a.pk}/payment_source").doc == {
        "data": None
    }


def test_a_payment_source_link_without_include_costs_no_data(w):
    response = w.world.api("admin").get(f"/api/orders/{w.world.ada_placed_a.pk}")
    relationship = response.doc["data"]["relationships"]["payment_source"]
    assert "data" not in relationship
    assert relationship["links"]["related"].endswith(
        f"/orders/{w.world.ada_placed_a.pk}/payment_source"
    )


@pytest.mark.parametrize("resource", ["authorizations", "captures"])
def test_transactions_include_their_order_and_payment_source(w, resource):
    paid = w.world.paid["ada_placed_a"]
    txn = paid.authorization if resource == "authorizations" else paid.capture
    for role in ("customer_a", "admin"):
        response = w.world.api(role).get(f"/api/{resource}/{txn.pk}?include=order,payment_source")
        assert response.status_code == 200, response.doc
        relationships = response.doc["data"]["relationships"]
        assert relationships["order"]["data"] == {"type": "orders", "id": w.world.ada_placed_a.pk}
        assert relationships["payment_source"]["data"] == {
            "type": "test_payments",
            "id": txn.test_payment_id,
        }
        included = {(r["type"], r["id"]) for r in response.doc["included"]}
        assert ("orders", w.world.ada_placed_a.pk) in included
        assert ("test_payments", txn.test_payment_id) in included
    other = w.world.api("customer_b").get(f"/api/{resource}/{txn.pk}?include=order,payment_source")
    assert other.status_code == 404


@pytest.mark.parametrize("resource", ["voids", "refunds"])
def test_voids_and_refunds_declare_order_and_payment_source(w, resource):
    response = w.world.api("admin").get(f"/api/{resource}?include=order,payment_source")
    assert response.status_code == 200, response.doc
