"""Customer password resets: a storefront asks for one by e-mail, the customer gets a
single-use token by e-mail (Django's e-mail backend) and sets a new password with it.

The token is shown to nobody but the mailbox: only its SHA-256 is stored, and no API answer
carries it. A request for an e-mail without a customer is recorded the same way and sends
nothing, so the answer does not tell who has an account."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from oms.oauth.services import Owner, refresh_tokens_of_owner_revoke
from oms.services import resource_save
from orders.errors import ResetPasswordTokenInvalid, attribute
from orders.models import Customer, CustomerPasswordReset
from orders.services.customers import customer_find, email_validate, password_validate


def reset_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def customer_password_reset_request(*, email: str) -> CustomerPasswordReset:
    """Record a reset request for `email` and, if a customer has it, e-mail them the token
    once the request is committed."""
    normalized = email_validate(email)
    customer = customer_find(email=normalized)
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        reset = resource_save(
            CustomerPasswordReset(
                customer=customer,
                customer_email=normalized,
                token_hash=reset_token_hash(token),
                expires_at=timezone.now()
                + timedelta(seconds=settings.OMS_PASSWORD_RESET_TTL_SECONDS),
            )
        )
        if customer is not None:
            transaction.on_commit(partial(_reset_email_send, reset=reset, token=token))
    return reset


def _reset_email_send(*, reset: CustomerPasswordReset, token: str) -> None:
    link = settings.OMS_PASSWORD_RESET_URL.format(id=reset.pk, token=token)
    minutes = settings.OMS_PASSWORD_RESET_TTL_SECONDS // 60
    body = (
        "Someone asked to reset the password of your account.\n\n"
        + (f"Choose a new password here: {link}\n\n" if link else "")
        + f"Password reset: {reset.pk}\nReset token: {token}\n\n"
        + f"The token works once, for {minutes} minutes. "
        + "If you did not ask for it, ignore this e-mail: your password stays as it is.\n"
    )
    send_mail(
        "Reset your password",
        body,
        settings.DEFAULT_FROM_EMAIL,
        [reset.customer_email],
    )


def customer_password_reset_complete(
    *, reset: CustomerPasswordReset, token: str, password: str
) -> CustomerPasswordReset:
    """Set the customer's new password with the request's token: once, before it expires.
    Anything wrong (the token, a used or expired request, an e-mail nobody has) is the same
    refusal, and changes nothing."""
    password_validate(password, pointer=attribute("customer_password"))
    with transaction.atomic():
        # locked: two uses of one token at once cannot both succeed
        locked = CustomerPasswordReset.objects.select_for_update().get(pk=reset.pk)
        valid = (
            locked.customer_id is not None
            and locked.reset_password_at is None
            and locked.expires_at > timezone.now()
            and hmac.compare_digest(locked.token_hash, reset_token_hash(str(token or "")))
        )
        if not valid:
            raise ResetPasswordTokenInvalid(
                "The reset token is wrong, used already or expired: ask for a new one.",
                pointer=attribute("_reset_password_token"),
            )
        customer_id = locked.customer_id
        assert customer_id is not None  # checked above
        Customer.objects.filter(pk=customer_id).update(
            password_hash=make_password(password), updated_at=timezone.now()
        )
        locked.reset_password_at = timezone.now()
        locked.save(update_fields=["reset_password_at", "updated_at"])
        # sessions opened with the old password end with their access tokens
        refresh_tokens_of_owner_revoke(owner=Owner(type="Customer", id=customer_id))
    return locked
