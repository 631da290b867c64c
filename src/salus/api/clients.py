"""Clients: GET/POST /clients, POST /clients/lookup, GET /clients/{client_id}.

``POST /clients/lookup`` (the code in the body) and ``GET /clients?uic=RAW`` find a client by
their code: the code is hashed on the server and compared with the stored hash, only among
clients the user may see. The raw code is never stored, echoed or logged. The POST keeps the
code out of URLs, which proxies, browsers and servers tend to log.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from salus.api.contacts import ContactOut, SexCode, hash_uic, serialise_contact
from salus.api.errors import invalid
from salus.api.schemas import ERRORS, ListParams, Page, StrictIn, check_dates, page, site_for_write
from salus.clients.actions import ClientAttributes, do_register_client, find_by_hashes
from salus.clients.models import ClientSite, Substance
from salus.core import access, audit
from salus.services.actions import local_date

router = Router(tags=["clients"])

# A client's page shows at most this many of their contacts, newest first.
CLIENT_CONTACTS_SHOWN = 200


class ClientOut(Schema):
    id: uuid.UUID
    reference: str = Field(description="Short opaque reference for talking about the record.")
    sex: str
    birth_year: int | None
    injects: bool
    substances: list[str]
    consent_follow_up: bool
    first_contact_date: dt.date | None
    sites: list[str] = Field(description="Codes of the user's sites where the client has been served.")


class ClientDetailOut(ClientOut):
    contacts_total: int = Field(description="Contacts at the user's sites.")
    contacts: list[ContactOut] = Field(description="The newest contacts at the user's sites (at most 200).")


class ClientCreated(ClientOut):
    created: bool


class ClientIn(StrictIn):
    site: str = Field(max_length=40, description="Site code where the client is registered.")
    uic: str = Field(min_length=1, max_length=64, description="Raw UIC; write-only, never returned.")
    sex: SexCode | None = None
    birth_year: int | None = Field(None, ge=1900, le=2100)
    injects: bool | None = None
    substances: list[Substance] | None = Field(None, max_length=len(Substance.values))
    consent_follow_up: bool | None = None


class ClientLookupIn(StrictIn):
    uic: str = Field(min_length=1, max_length=64, description="Raw UIC; write-only, never returned.")


class ClientLookupOut(Schema):
    found: bool = Field(description="Whether a client with this code is served at the user's sites.")
    client: ClientOut | None


class ClientListParams(ListParams):
    uic: str | None = Field(None, max_length=64, description="Find the client with this raw UIC.")


def _links_at_users_sites(user):
    """Client-site links at the sites ``user`` works at (all sites for org-wide roles)."""
    return ClientSite.objects.filter(site__in=access.sites(user))


def _with_links(user, qs):
    """Fetch each client's links at the user's sites in one query (for ``serialise_client``)."""
    links = _links_at_users_sites(user).select_related("site")
    return qs.prefetch_related(Prefetch("site_links", queryset=links, to_attr="visible_links"))


def serialise_client(user, client) -> dict:
    links = getattr(client, "visible_links", None)
    if links is None:
        links = _links_at_users_sites(user).filter(client=client).select_related("site")
    return {
        "id": client.id, "reference": client.reference, "sex": client.sex, "birth_year": client.birth_year,
        "injects": client.injects, "substances": list(client.substances or []),
        "consent_follow_up": client.consent_follow_up, "first_contact_date": client.first_contact_date,
        "sites": sorted(link.site.code for link in links),
    }


@router.get("/clients", response={200: Page[ClientOut], **ERRORS})
def list_clients(request, params: Query[ClientListParams]):
    """Clients served at the user's sites, oldest registration first.

    ``site`` keeps clients served at that site; ``date_from``/``date_to`` keep clients seen
    (at the user's sites, or at ``site``) during that period. ``uic`` finds one client.
    """
    user = request.auth
    access.require(user, "client.view")
    check_dates(params)
    qs = access.clients(user)
    if params.uic is not None:
        qs = _by_code(user, qs, params.uic)
    links = _links_at_users_sites(user)
    if params.site:
        try:
            links = links.filter(site=access.get_site_for_user(user, params.site))
        except access.NotVisible:
            raise invalid("site", _("Unknown site, or not one of your sites.")) from None
    if params.date_from:
        links = links.filter(last_seen__gte=params.date_from)
    if params.date_to:
        links = links.filter(first_seen__lte=params.date_to)
    if params.site or params.date_from or params.date_to:
        qs = qs.filter(id__in=links.values("client_id"))
    qs = _with_links(user, qs.order_by("registered_at", "id"))
    return page(qs, params, lambda c: serialise_client(user, c))


def _by_code(user, qs, raw_uic: str):
    """``qs`` narrowed to the client with this raw code (none if unknown or not visible);
    a visible match is audited as ``client.lookup``."""
    found = find_by_hashes(hash_uic(raw_uic))
    qs = qs.filter(pk=found.pk if found else None)
    if found is not None and qs.exists():
        audit.record(user, "client.lookup", found, detail={"via": "api"})
    return qs


@router.post("/clients/lookup", response={200: ClientLookupOut, **ERRORS})
def lookup_client(request, payload: ClientLookupIn):
    """Find a client by their code, sent in the body so that it never enters a URL.

    A client known only at other sites is "not found", as in ``GET /clients?uic=``.
    """
    user = request.auth
    access.require(user, "client.view")
    client = _with_links(user, _by_code(user, access.clients(user), payload.uic)).first()
    return {"found": client is not None, "client": serialise_client(user, client) if client else None}


@router.get("/clients/{client_id}", response={200: ClientDetailOut, **ERRORS})
def get_client(request, client_id: uuid.UUID):
    """One client with their contacts at the user's sites. Audited as ``client.view``."""
    user = request.auth
    access.require(user, "client.view")
    client = access.get_client_for_user(user, client_id)
    audit.record(user, "client.view", client, detail={"via": "api"})
    contacts = access.contacts(user).filter(client=client).prefetch_related("referrals")
    shown = contacts.order_by("-occurred_at", "id")[:CLIENT_CONTACTS_SHOWN]
    body = serialise_client(user, client)
    body["contacts_total"] = contacts.count()
    body["contacts"] = [serialise_contact(user, c) for c in shown]
    return body


@router.post("/clients", response={200: ClientCreated, 201: ClientCreated, **ERRORS})
def register_client(request, payload: ClientIn):
    """Find or register the client with this UIC at ``site``: 201 when new, 200 when the code
    was already registered (the client is then linked to ``site`` too)."""
    user = request.auth
    site = site_for_write(user, payload.site, "client.register")
    hashes = hash_uic(payload.uic)
    if payload.sex is not None and hashes.sex is not None and payload.sex != hashes.sex:
        raise invalid("sex", _("Does not match the sex code in the UIC."))
    if payload.birth_year is not None and hashes.birth_year is not None and payload.birth_year != hashes.birth_year:
        raise invalid("birth_year", _("Does not match the year of birth in the UIC."))
    attrs = ClientAttributes(
        sex=payload.sex, birth_year=payload.birth_year, injects=payload.injects,
        substances=[str(s) for s in payload.substances] if payload.substances is not None else None,
        consent_follow_up=payload.consent_follow_up,
    )
    client, created = do_register_client(
        user, site, raw_uic=payload.uic, attrs=attrs, seen_on=local_date(timezone.now())
    )
    return (201 if created else 200), serialise_client(user, client) | {"created": created}
