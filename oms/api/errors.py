"""API errors in Commerce Layer's shape: {"errors": [{title, detail, code, status, source}]}.

Every failure of a request, whatever raised it (DRF, Django validation, a domain service, the
parser), is mapped here, once, to a status and a stable code. Nothing reaches the client as a 500
for bad input.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from oms.errors import DomainError

TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Record not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    415: "Unsupported media type",
    422: "Unprocessable entity",
    423: "Locked",
    429: "Too many requests",
}


class ApiError(exceptions.APIException):
    """An API failure with a stable `code` and, optionally, what in the request caused it:
    `pointer` (a JSON pointer into the document) or `parameter` (a query parameter)."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    default_code = "BAD_REQUEST"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        status_code: int | None = None,
        pointer: str | None = None,
        parameter: str | None = None,
    ):
        super().__init__(detail=detail, code=code or self.default_code)
        if status_code is not None:
            self.status_code = status_code
        self.api_code = code or self.default_code
        self.pointer = pointer
        self.parameter = parameter


class BadRequest(ApiError):
    pass


class Conflict(ApiError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "CONFLICT"


def error_object(
    *,
    status_code: int,
    code: str,
    detail: str,
    title: str | None = None,
    pointer: str | None = None,
    parameter: str | None = None,
) -> dict[str, Any]:
    error: dict[str, Any] = {
        "title": title or TITLES.get(status_code, "Error"),
        "detail": detail,
        "code": code,
        "status": str(status_code),
    }
    if pointer is not None:
        error["source"] = {"pointer": pointer}
    elif parameter is not None:
        error["source"] = {"parameter": parameter}
    return error


def errors_response(errors: list[dict[str, Any]], status_code: int, **headers: str) -> Response:
    response = Response({"errors": errors}, status=status_code)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _flatten(detail: Any) -> Iterable[str]:
    if isinstance(detail, Mapping):
        for value in detail.values():
            yield from _flatten(value)
    elif isinstance(detail, list | tuple):
        for item in detail:
            yield from _flatten(item)
    else:
        yield str(detail)


def field_pointer(view: Any, field: str) -> str:
    """`/data/relationships/x` for a relationship field of the view's serializer, else
    `/data/attributes/x`; `/data` for errors about the whole resource."""
    if field in ("non_field_errors", "__all__"):
        return "/data"
    relationship_names = getattr(view, "relationship_names", None)
    if callable(relationship_names) and field in relationship_names():
        return f"/data/relationships/{field}"
    return f"/data/attributes/{field}"


def validation_errors(
    view: Any, detail: Any, code: str = "VALIDATION_ERROR"
) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    if isinstance(detail, Mapping):
        for field, messages in detail.items():
            pointer = field_pointer(view, str(field))
            label = "" if pointer == "/data" else f"{field} - "
            errors.extend(
                error_object(
                    status_code=422,
                    code=code,
                    title=f"{label}{message}" if label else message,
                    detail=f"{label}{message}",
                    pointer=pointer,
                )
                for message in _flatten(messages)
            )
    else:
        errors.extend(
            error_object(status_code=422, code=code, detail=message, pointer="/data")
            for message in _flatten(detail)
        )
    return errors


def exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response | None:
    view = context.get("view")
    if isinstance(exc, DomainError):
        return errors_response(
            [
                error_object(
                    status_code=exc.status,
                    code=exc.code,
                    detail=exc.detail,
                    pointer=exc.pointer or "/data",
                )
            ],
            exc.status,
        )
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        return errors_response(validation_errors(view, detail), 422)
    if isinstance(exc, exceptions.ValidationError):
        return errors_response(validation_errors(view, exc.detail), 422)
    if isinstance(exc, ApiError):
        return errors_response(
            [
                error_object(
                    status_code=exc.status_code,
                    code=exc.api_code,
                    detail=str(exc.detail),
                    pointer=exc.pointer,
                    parameter=exc.parameter,
                )
            ],
            exc.status_code,
        )
    if isinstance(exc, Http404 | ObjectDoesNotExist | exceptions.NotFound):
        return errors_response(
            [
                error_object(
                    status_code=404,
                    code="RECORD_NOT_FOUND",
                    detail="The requested resource was not found.",
                )
            ],
            404,
        )
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.APIException):
        code = {
            exceptions.NotAuthenticated: "UNAUTHORIZED",
            exceptions.AuthenticationFailed: "INVALID_TOKEN",
            exceptions.PermissionDenied: "FORBIDDEN",
            exceptions.MethodNotAllowed: "METHOD_NOT_ALLOWED",
            exceptions.NotAcceptable: "NOT_ACCEPTABLE",
            exceptions.UnsupportedMediaType: "UNSUPPORTED_MEDIA_TYPE",
            exceptions.Throttled: "TOO_MANY_REQUESTS",
            exceptions.ParseError: "BAD_REQUEST",
        }.get(type(exc))
        if code is None:
            codes = exc.get_codes()
            code = codes.upper() if isinstance(codes, str) else "BAD_REQUEST"
        headers: dict[str, str] = {}
        wait = getattr(exc, "wait", None)
        if isinstance(exc, exceptions.Throttled) and wait is not None:
            headers["Retry_After"] = str(int(wait) + 1)
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            auth_header = getattr(view, "get_authenticate_header", None)
            request = context.get("request")
            value = auth_header(request) if callable(auth_header) and request else None
            if value:
                headers["WWW_Authenticate"] = value
        # Without a token the answer is 401 whatever authentication classes are configured.
        status_code = 401 if isinstance(exc, exceptions.NotAuthenticated) else exc.status_code
        return errors_response(
            [
                error_object(
                    status_code=status_code, code=code, detail=" ".join(_flatten(exc.detail))
                )
            ],
            status_code,
            **headers,
        )
    return None
