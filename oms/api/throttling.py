"""Rate limits of API writes a storefront could abuse (sign-ups, password reset requests), per
IP address, counted in `oms.ratelimit`'s shared store like the token endpoint's limits."""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.views import APIView

from oms.oauth.throttling import TokenRateThrottle


class IPRateThrottle(TokenRateThrottle):
    """`setting` names the rate ("N/s|min|hour|day"; empty: no limit), `scope` the counter."""

    default_rate = "20/hour"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        return f"{self.scope}:{self.get_ident(request)}"
