"""One error shape for every API answer that is not a success.

Every 4xx (and the rare 5xx) body is::

    {"detail": [{"field": "syringes_given", "message": "Must be a whole number."}]}

``field`` names the offending input (a body field, a query parameter or a path parameter) or is
``null`` when the error is about the request as a whole (no token, not found, forbidden).
Messages are translated into the language the request asked for (Accept-Language), and never
repeat the value that was sent: a raw UIC must not come back in an error or reach a log.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from salus.services.actions import ConflictError

logger = logging.getLogger("salus.api")


class ApiError(Exception):
    """An error the API answers with ``status`` and one message, optionally about ``field``."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


def invalid(field: str, message: str) -> ApiError:
    """A 422 about one input field."""
    return ApiError(422, message, field)


def error_body(message: str, field: str | None = None) -> dict:
    return {"detail": [{"field": field, "message": str(message)}]}


def _field_name(loc: tuple | list) -> str:
    """The user-facing name of the input that ``loc`` (pydantic's error location) points at.

    Ninja locations look like ("body", "payload", "syringes_given"), ("query", "limit") or
    ("path", "contact_id"); list indexes show up as numbers and are kept ("substances.1").
    """
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie", "form"):
        where = parts.pop(0)
        if where == "body" and parts and parts[0] == "payload":
            parts.pop(0)
        if not parts:
            return where
    return ".".join(parts) or "body"


def _message(err: dict) -> str:
    """A translated message for one pydantic error, chosen by its type, never echoing input."""
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind == "extra_forbidden":
        return _("Unknown field.")
    if kind in ("int_parsing", "int_type", "int_from_float", "int_parsing_size"):
        return _("Must be a whole number.")
    if kind in ("bool_parsing", "bool_type"):
        return _("Must be true or false.")
    if kind == "nul_character":
        return _("Must not contain NUL characters.")
    if kind in ("string_type", "string_sub_type"):
        return _("Must be text.")
    if kind in ("date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact", "date_type"):
        return _("Must be a date written YYYY-MM-DD.")
    if kind in ("datetime_parsing", "datetime_from_date_parsing", "datetime_type", "datetime_object_invalid"):
        return _("Must be a date and time in ISO 8601 form, e.g. 2025-03-01T14:30:00+00:00.")
    if kind in ("time_parsing", "time_type"):
        return _("Must be a time written HH:MM.")
    if kind in ("uuid_parsing", "uuid_type", "uuid_version"):
        return _("Must be a UUID.")
    if kind in ("decimal_parsing", "decimal_type", "float_parsing", "float_type", "finite_number"):
        return _("Must be a number.")
    if kind == "decimal_max_places":
        return _("Too many decimal places (at most %(n)s).") % {"n": ctx.get("decimal_places", "")}
    if kind in ("decimal_max_digits", "decimal_whole_digits"):
        return _("This number has too many digits.")
    if kind in ("literal_error", "enum"):
        return _("Must be one of: %(choices)s.") % {"choices": ctx.get("expected", "")}
    if kind in ("greater_than_equal", "greater_than"):
        limit = ctx.get("ge", ctx.get("gt", ""))
        return _("Must be at least %(limit)s.") % {"limit": limit}
    if kind in ("less_than_equal", "less_than"):
        limit = ctx.get("le", ctx.get("lt", ""))
        return _("Must be at most %(limit)s.") % {"limit": limit}
    if kind == "string_too_long":
        return _("Too long: at most %(n)s characters.") % {"n": ctx.get("max_length", "")}
    if kind == "string_too_short":
        return _("Too short: at least %(n)s characters.") % {"n": ctx.get("min_length", "")}
    if kind in ("list_type", "tuple_type", "set_type"):
        return _("Must be a list.")
    if kind in ("too_long",):
        return _("Too many items.")
    if kind in ("model_type", "model_attributes_type", "dict_type", "json_invalid", "json_type"):
        return _("Must be a JSON object.")
    return _("Invalid value.")


def validation_details(errors: list[dict]) -> list[dict]:
    """Turn ninja/pydantic errors into [{"field", "message"}], one per field, in input order."""
    out, seen = [], set()
    for err in errors:
        field = _field_name(err.get("loc", ()))
        if field in seen:
            # A union type reports once per alternative; one message per field is clearer.
            continue
        seen.add(field)
        out.append({"field": field, "message": _message(err)})
    return out


def install(api: NinjaAPI) -> None:
    """Register the handlers that give every error the shape above."""
    # Registered with the decorator: ``add_exception_handler`` is annotated as passing a handler
    # the exception or its class, though it is only ever called with the exception itself.

    @api.exception_handler(ValidationError)
    def on_validation(request, exc: ValidationError):
        return api.create_response(request, {"detail": validation_details(exc.errors)}, status=422)

    @api.exception_handler(ApiError)
    def on_api_error(request, exc: ApiError):
        return api.create_response(request, error_body(exc.message, exc.field), status=exc.status)

    @api.exception_handler(AuthenticationError)
    def on_authentication(request, exc: AuthenticationError):
        response = api.create_response(
            request, error_body(_("A valid API token is required (Authorization: Bearer ...).")), status=401
        )
        response["WWW-Authenticate"] = 'Bearer realm="salus"'
        return response

    @api.exception_handler(HttpError)
    def on_http_error(request, exc: HttpError):
        if exc.status_code == 400:
            message = _("The request body is not valid JSON.")
        elif exc.status_code == 405:
            message = _("This method is not allowed here.")
        else:
            message = _("The request could not be handled.")
        return api.create_response(request, error_body(message), status=exc.status_code)

    @api.exception_handler(Http404)
    def on_not_found(request, exc: Http404):
        return api.create_response(request, error_body(_("Not found.")), status=404)

    @api.exception_handler(PermissionDenied)
    def on_forbidden(request, exc: PermissionDenied):
        return api.create_response(request, error_body(_("Your role does not allow this.")), status=403)

    @api.exception_handler(ConflictError)
    def on_conflict(request, exc: ConflictError):
        return api.create_response(request, error_body(str(exc), "id"), status=409)

    @api.exception_handler(Exception)
    def on_unexpected(request, exc: Exception):
        # Log the kind of failure and where, never the request: bodies carry UICs and notes.
        logger.error("API error %s on %s %s", type(exc).__name__, request.method, request.path,
                     exc_info=exc)
        return api.create_response(request, error_body(_("Something went wrong on the server.")), status=500)
