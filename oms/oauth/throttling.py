"""Rate limits of the token endpoint, per client_id and per IP address (DRF throttles counted
in `oms.ratelimit`'s shared store: the database, or Redis, never one process's memory). Rates
come from our own settings, read on every request, so the shared REST_FRAMEWORK settings need no
throttle entries.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from oms.oauth.params import client_id_peek
from oms.ratelimit import parse_rate, rate_limit_hit

DEFAULT_RATE_PER_CLIENT = "60/min"
DEFAULT_RATE_PER_IP = "120/min"


class TokenRateThrottle(BaseThrottle):
    """A fixed-window limit counted in the shared store of `oms.ratelimit`."""

    scope: str = ""
    setting: str = ""
    default_rate: str = ""
    wait_seconds: float | None = None

    def get_rate(self) -> str | None:
        rate: str | None = getattr(settings, self.setting, self.default_rate)
        return rate or None

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        raise NotImplementedError

    def allow_request(self, request: Request, view: APIView) -> bool:
        rate = self.get_rate()
        key = self.get_cache_key(request, view) if rate else None
        if rate is None or key is None:
            return True
        limit, window = parse_rate(rate)
        decision = rate_limit_hit(key, limit=limit, window=window)
        self.wait_seconds = decision.wait
        return decision.allowed

    def wait(self) -> float | None:
        return self.wait_seconds


class TokenIPRateThrottle(TokenRateThrottle):
    scope = "oauth_token_ip"
    setting = "OMS_TOKEN_RATE_PER_IP"
    default_rate = DEFAULT_RATE_PER_IP

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        return f"{self.scope}:{self.get_ident(request)}"

    def get_ident(self, request: Request) -> str:
        # DRF trusts X-Forwarded-For whole unless NUM_PROXIES is set, which would let a client
        # pick a fresh "IP" per request; without a configured proxy count use the socket peer.
        if api_settings.NUM_PROXIES is None:
            return str(request.META.get("REMOTE_ADDR", ""))
        return super().get_ident(request)


class TokenClientRateThrottle(TokenRateThrottle):
    scope = "oauth_token_client"
    setting = "OMS_TOKEN_RATE_PER_CLIENT"
    default_rate = DEFAULT_RATE_PER_CLIENT

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        client_id = client_id_peek(request)
        if client_id is None:
            return None
        # Hashed: the client_id is user input, and cache backends restrict key characters.
        ident = hashlib.sha256(client_id.encode()).hexdigest()
        return f"{self.scope}:{ident}"
