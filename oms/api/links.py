"""The links of a JSON:API document, built from URL templates instead of resolving the URL
configuration for every one of them.

A GET of one order with its line items, shipments and authorizations carries about 80 links
(`self` and `related` of every relationship of every record); `django.urls.reverse` walks the
resolver for each, which was a third of the request's time. `link_reverse` reverses a view once
with placeholder arguments, keeps the path as a template, and fills it in; anything it cannot
prove equivalent (positional arguments, a format suffix, versioning, an argument that URL
quoting would change) goes through DRF's `reverse` as before."""

from __future__ import annotations

import re
from typing import Any

from django.urls import NoReverseMatch, get_script_prefix, get_urlconf
from django.urls import reverse as django_reverse
from rest_framework.reverse import reverse as drf_reverse

# ids, relationship names and codes: what URL quoting leaves as it is
_PLAIN = re.compile(r"[A-Za-z0-9_\-]+")
_TEMPLATES: dict[tuple[Any, ...], str | None] = {}


def _placeholder(name: str) -> str:
    return f"OMSLINK{name}OMSLINK"


def _template(viewname: str, names: tuple[str, ...], resolver: Any = None) -> str | None:
    key = (viewname, names, *(resolver or _resolver_key()))
    if key not in _TEMPLATES:
        try:
            path = django_reverse(viewname, kwargs={name: _placeholder(name) for name in names})
        except NoReverseMatch:
            path = None
        # only a template whose every placeholder appears once, untouched, can be filled in
        if path is not None and any(path.count(_placeholder(name)) != 1 for name in names):
            path = None
        _TEMPLATES[key] = path
    return _TEMPLATES[key]


def _resolver_key() -> tuple[str, Any]:
    return get_script_prefix(), get_urlconf()


def _request_resolver_key(request: Any) -> tuple[str, Any]:
    """The script prefix and URL configuration, read once per request (both are set when the
    request starts and hold until it ends; reading them is a thread-local look-up each)."""
    raw = getattr(request, "_request", request)
    key = getattr(raw, "_oms_link_resolver", None)
    if key is None:
        key = raw._oms_link_resolver = _resolver_key()
    return key


def _origin(request: Any) -> str:
    """scheme://host of the request, computed once per request."""
    raw = getattr(request, "_request", request)
    origin = getattr(raw, "_oms_link_origin", None)
    if origin is None:
        origin = raw.build_absolute_uri("/")[:-1]
        raw._oms_link_origin = origin
    return str(origin)


def link_reverse(
    viewname: str,
    args: Any = None,
    kwargs: dict[str, Any] | None = None,
    request: Any = None,
    format: str | None = None,
    **extra: Any,
) -> str:
    """DRF's `reverse`, from a per-view template when it gives the same URL."""
    if (
        args
        or format
        or extra
        or not kwargs
        or (request is not None and getattr(request, "versioning_scheme", None) is not None)
        or not all(_PLAIN.fullmatch(str(value)) for value in kwargs.values())
    ):
        return drf_reverse(viewname, args=args, kwargs=kwargs, request=request, format=format)
    names = tuple(sorted(kwargs))
    path = _template(
        viewname, names, _request_resolver_key(request) if request is not None else None
    )
    if path is None:
        return drf_reverse(viewname, kwargs=kwargs, request=request)
    for name in names:
        path = path.replace(_placeholder(name), str(kwargs[name]))
    return _origin(request) + path if request is not None else path


def use_link_templates(field: Any) -> None:
    """Point a hyperlinked field (and its child, for a to-many) at `link_reverse`."""
    for target in (field, getattr(field, "child_relation", None)):
        if target is not None and getattr(target, "reverse", None) is drf_reverse:
            target.reverse = link_reverse
