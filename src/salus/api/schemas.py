"""Schemas and helpers shared by the routers: list parameters, pages, errors, site look-up."""

from __future__ import annotations

import datetime as dt
from typing import Generic, TypeVar

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import ConfigDict, field_validator
from pydantic_core import PydanticCustomError

from salus.api.errors import invalid
from salus.clients.models import Client
from salus.core import access, plainsql
from salus.core.models import Site

T = TypeVar("T")

# Dates before this are typing mistakes in a service record (the CSV import uses the same limit).
EARLIEST_DATE = dt.date(1980, 1, 1)
MAX_LIMIT = 500
MAX_OFFSET = 1_000_000_000


class ErrorItem(Schema):
    field: str | None = Field(None, description="The input the error is about, or null.")
    message: str


class ErrorOut(Schema):
    detail: list[ErrorItem]


def _no_nul(value):
    # PostgreSQL cannot store or even compare text holding NUL; no real input contains one.
    if isinstance(value, str) and "\x00" in value:
        raise PydanticCustomError("nul_character", "NUL character")
    return value


class ListParams(Schema):
    """Paging and filters every list endpoint accepts."""

    _check_nul = field_validator("*")(_no_nul)

    limit: int = Field(100, ge=1, le=MAX_LIMIT, description="Items per page (1-500).")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Items to skip.")
    site: str | None = Field(None, max_length=40, description="Only this site (site code).")
    date_from: dt.date | None = Field(None, description="Only on or after this date (YYYY-MM-DD).")
    date_to: dt.date | None = Field(None, description="Only on or before this date (YYYY-MM-DD).")


class Page(Schema, Generic[T]):
    count: int = Field(description="Items matching the filters, over all pages.")
    limit: int
    offset: int
    items: list[T]


class StrictIn(Schema):
    """Base of request bodies: an unknown field is an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")
    _check_nul = field_validator("*")(_no_nul)


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def check_dates(params: ListParams) -> None:
    if params.date_from and params.date_to and params.date_from > params.date_to:
        raise invalid("date_to", _("The end date cannot be before the start date."))


def filter_site(qs: QuerySet, user, code: str | None, field: str = "site") -> QuerySet:
    """Keep rows of the site ``code`` (one of the user's sites) when a code is given."""
    if not code:
        return qs
    try:
        site = access.get_site_for_user(user, code)
    except access.NotVisible:
        raise invalid("site", _("Unknown site, or not one of your sites.")) from None
    return qs.filter(**{field: site})


def page(qs: QuerySet, params: ListParams, serialise) -> dict:
    """One page of ``qs`` (already in a stable order) as {count, limit, offset, items}."""
    count = qs.count()
    rows = qs[params.offset : params.offset + params.limit]
    return {"count": count, "limit": params.limit, "offset": params.offset, "items": [serialise(r) for r in rows]}


def site_for_write(user, code: str, capability: str) -> Site:
    """The site named in a request body, checked for ``capability`` there (403 if not allowed)."""
    # Plain SQL (salus.core.plainsql): every write posted names its site.
    site = plainsql.one_by(Site, "code", code)
    if site is None:
        raise invalid("site", _("Unknown site."))
    access.check_site(user, site, capability)
    return site


def client_for_write(user, client_id) -> Client:
    """The client named in a request body, if visible to the user; else 422 on ``client``."""
    try:
        return access.get_client_for_user(user, client_id)
    except access.NotVisible:
        raise invalid("client", _("No such client at your sites.")) from None


def check_not_future(field: str, day: dt.date | None, today: dt.date) -> None:
    if day is None:
        return
    if day > today:
        raise invalid(field, _("This date is in the future."))
    if day < EARLIEST_DATE:
        raise invalid(field, _("This date is too far in the past."))
