"""Fixtures of the payments tests: a fresh test gateway log and a ready-made checkout."""

from __future__ import annotations

import pytest

from oms.actors import Actor
from payments.gateways.test import TestGateway
from tests.payments.checkouts import ACTOR, Checkout, make_checkout


@pytest.fixture(autouse=True)
def _fresh_test_gateway():
    TestGateway.reset()
    yield
    TestGateway.reset()


@pytest.fixture
def actor() -> Actor:
    return ACTOR


@pytest.fixture
def checkout() -> Checkout:
    return make_checkout()
