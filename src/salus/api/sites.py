"""GET /sites: the sites the user works at (every site for organisation-wide roles)."""

from __future__ import annotations

import uuid

from ninja import Query, Router, Schema

from salus.api.schemas import ERRORS, ListParams, Page, page
from salus.core import access

router = Router(tags=["sites"])


class SiteOut(Schema):
    id: uuid.UUID
    code: str
    name: str
    kind: str
    area: str
    active: bool


def serialise_site(site) -> dict:
    return {
        "id": site.id, "code": site.code, "name": site.name, "kind": site.kind,
        "area": site.area.path, "active": site.active,
    }


@router.get("/sites", response={200: Page[SiteOut], **ERRORS})
def list_sites(request, params: Query[ListParams]):
    """Sites the user may work with, by code. Aggregate roles (analysts) see every site too:
    a site list holds no individual record. ``date_from``/``date_to`` do not apply here."""
    qs = access.sites(request.auth).order_by("code", "id")
    if params.site:
        qs = qs.filter(code=params.site)
    return page(qs, params, serialise_site)
