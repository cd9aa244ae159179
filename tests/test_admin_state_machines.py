"""No admin page edits a state machine: statuses move only through their triggers (the admin's
actions), so no change form of any registered model has a status field to post."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django_fsm import FSMFieldMixin

pytestmark = pytest.mark.django_db


def state_machine_admins():
    for model, model_admin in admin.site._registry.items():
        fields = [f.name for f in model._meta.concrete_fields if isinstance(f, FSMFieldMixin)]
        if fields:
            yield model, model_admin, fields


def test_the_state_machines_have_admin_pages():
    names = {model._meta.label for model, _, _ in state_machine_admins()}
    assert {"orders.Order", "payments.Transaction", "fulfillment.Shipment"} <= names


@pytest.mark.parametrize(
    "model_admin",
    [model_admin for _, model_admin, _ in state_machine_admins()],
    ids=lambda model_admin: model_admin.model._meta.label,
)
def test_no_change_form_edits_a_status(model_admin):
    model = model_admin.model
    request = RequestFactory().get("/admin/")
    request.user = get_user_model().objects.create_superuser("root", "r@example.com", "pw-1!")
    obj = model()
    fsm_fields = {f.name for f in model._meta.concrete_fields if isinstance(f, FSMFieldMixin)}
    # A read-only page (orders, transactions) has no form to post at all.
    editable = model_admin.has_change_permission(request, obj)
    form = model_admin.get_form(request, obj, change=True) if editable else None
    assert not fsm_fields & set(form.base_fields if form else ())
