"""One error format for the whole API: every error response is an
ErrorSerializer body, whatever raised it."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import DomainError


class ErrorSerializer(serializers.Serializer):
    """Every error response of the API has this shape."""

    status = serializers.IntegerField(help_text="The HTTP status code, repeated.")
    code = serializers.CharField(help_text="A stable machine-readable code, e.g. `invalid`, `not_found`.")
    detail = serializers.CharField(help_text="A message for a person.")
    fields = serializers.DictField(
        required=False,
        help_text="400 only: field name -> list of messages. Errors about the whole "
        "input are under `non_field_errors`; nested inputs nest the same way.",
    )
    state = serializers.CharField(required=False, help_text="409 on a transition: the report's state.")
    action = serializers.CharField(required=False, help_text="409 on a transition: the refused action.")
    open_report = serializers.IntegerField(
        required=False, help_text="409 `open_report_exists`: the id of the unresolved report that blocks a reopen."
    )


def error_body(status_code: int, code: str, detail: str, **extra) -> dict:
    return {"status": status_code, "code": code, "detail": str(detail), **extra}


def _first_code(codes) -> str:
    while isinstance(codes, dict | list):
        if not codes:
            return "error"
        codes = next(iter(codes.values())) if isinstance(codes, dict) else codes[0]
    return str(codes)


def exception_handler(exc, context):
    """DRF's handler, plus the domain errors, reshaped into ErrorSerializer."""
    if isinstance(exc, DomainError):
        body = error_body(exc.status_code, exc.code, exc.message, **exc.extra())
        return Response(body, status=exc.status_code)
    if isinstance(exc, ProtectedError):
        detail = "It cannot be deleted while other records refer to it."
        return Response(error_body(409, "protected", detail), status=409)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a bug: let Django answer 500 and log it
    if isinstance(exc, exceptions.ValidationError):
        data = response.data
        fields = data if isinstance(data, dict) else {"non_field_errors": data}
        detail = "The input is not valid; see `fields`."
        response.data = error_body(response.status_code, "invalid", detail, fields=fields)
    else:
        data = response.data
        detail = data.get("detail", "") if isinstance(data, dict) else str(data)
        response.data = error_body(response.status_code, _first_code(exc.get_codes()), detail)
    return response


@csrf_exempt
def api_not_found(request, *args, **kwargs):
    """404 for any unknown address under /api/, for every method, in the
    API's error format rather than Django's HTML page. CSRF-exempt: nothing
    is done here, and a write with a key to a wrong address must learn that
    the address is wrong, not read an HTML CSRF page."""
    return JsonResponse(error_body(404, "not_found", "There is no such API endpoint."), status=404)
