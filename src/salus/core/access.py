"""The access layer: the only way to reach individual records.

Every scoped query in Salus starts here. A view, an API endpoint or a command asks for
``access.clients(user)`` (or contacts, referrals...) and gets a queryset already limited to what
the user may see; it never filters by site itself. Objects outside the user's scope are "not
found" (404), not "forbidden", so that their existence is not revealed.

Scope rules (declared in salus.core.roles):
- workers, coordinators and clinicians reach the sites they belong to;
- managers and administrators reach every site of the organisation;
- analysts reach no individual record at all, only aggregates;
- field compartments: HIV/HCV results and ART status need ``clinical.view``; rights-violation
  reports need ``rights.view`` and the user's rights focal person grant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.http import Http404

from salus.core.roles import INDIVIDUAL_RECORD_ROLES, ORG_WIDE_ROLES, ROLE_CAPABILITIES

if TYPE_CHECKING:
    from salus.clients.models import Client
    from salus.core.models import Site, User
    from salus.services.models import Contact, OSTEpisode, OverdoseEvent, Referral

M = TypeVar("M", bound=Model)


class NotVisible(Http404):
    """The object does not exist, or the user may not know that it does."""


def can(user: User | None, capability: str) -> bool:
    """Whether ``user`` holds ``capability`` (see salus.core.roles.CAPABILITIES)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if capability == "rights.view" and not (user.rights_focal_person or user.role == "admin"):
        return False
    return capability in ROLE_CAPABILITIES.get(user.role, frozenset())


def require(user: User, capability: str) -> None:
    """Raise PermissionDenied unless ``user`` holds ``capability``."""
    if not can(user, capability):
        raise PermissionDenied(capability)


def is_org_wide(user: User) -> bool:
    return user.role in ORG_WIDE_ROLES


def sees_individual_records(user: User) -> bool:
    return user.is_authenticated and user.is_active and user.role in INDIVIDUAL_RECORD_ROLES


def site_ids(user: User) -> set | None:
    """The ids of the sites whose records ``user`` may reach; None means every site."""
    if is_org_wide(user):
        return None
    cached = getattr(user, "_salus_site_ids", None)
    if cached is None:
        cached = _user_site_ids(user)
        user._salus_site_ids = cached
    return cached


def _user_site_ids(user: User) -> set:
    # Plain SQL (salus.core.plainsql): every request that touches a record asks it.
    from django.db import connection

    from salus.core import plainsql
    from salus.core.models import Site
    from salus.core.models import User as UserModel

    through = UserModel.sites.through
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {plainsql.column(through, 'site')} FROM {plainsql.table(through)} "
            f"WHERE {plainsql.column(through, 'user')} = %s",
            [plainsql.db_value(UserModel, "id", user.pk)],
        )
        to_python = Site._meta.pk.to_python
        return {to_python(site_id) for (site_id,) in cursor.fetchall()}


def sites(user: User) -> QuerySet[Site]:
    """Sites the user works at (all sites for organisation-wide roles)."""
    from salus.core.models import Site

    ids = site_ids(user)
    qs = Site.objects.select_related("area")
    return qs if ids is None else qs.filter(id__in=ids)


def _individual(user: User) -> None:
    if not sees_individual_records(user):
        raise PermissionDenied("individual records")


def _scoped(qs: QuerySet[M], user: User, site_field: str = "site") -> QuerySet[M]:
    _individual(user)
    ids = site_ids(user)
    return qs if ids is None else qs.filter(**{f"{site_field}__in": ids})


def clients(user: User) -> QuerySet[Client]:
    """Clients served at the user's sites (merged-away records excluded)."""
    from salus.clients.models import Client, ClientSite

    _individual(user)
    qs = Client.objects.filter(merged_into__isnull=True)
    ids = site_ids(user)
    if ids is None:
        return qs
    return qs.filter(id__in=ClientSite.objects.filter(site_id__in=ids).values("client_id"))


def contacts(user: User) -> QuerySet[Contact]:
    """Contacts recorded at the user's sites. Contacts at other sites stay hidden even for a
    client the user can see: a person's history elsewhere is not this site's business."""
    from salus.services.models import Contact

    return _scoped(Contact.objects.select_related("site", "client"), user)


def referrals(user: User) -> QuerySet[Referral]:
    from salus.services.models import Referral

    return _scoped(Referral.objects.select_related("site", "client"), user)


def ost_episodes(user: User) -> QuerySet[OSTEpisode]:
    from salus.services.models import OSTEpisode

    return _scoped(OSTEpisode.objects.select_related("site", "client"), user)


def overdoses(user: User) -> QuerySet[OverdoseEvent]:
    from salus.services.models import OverdoseEvent

    return _scoped(OverdoseEvent.objects.select_related("site", "client"), user)


def stock_levels(user: User) -> QuerySet:
    from salus.stock.models import StockLevel

    require(user, "stock.view")
    ids = site_ids(user)
    qs = StockLevel.objects.select_related("site", "commodity")
    return qs if ids is None else qs.filter(site_id__in=ids)


def stock_movements(user: User) -> QuerySet:
    from salus.stock.models import StockMovement

    require(user, "stock.view")
    ids = site_ids(user)
    qs = StockMovement.objects.select_related("site", "commodity")
    return qs if ids is None else qs.filter(site_id__in=ids)


def get_client_for_user(user: User, client_id) -> Client:
    """The client ``client_id`` if ``user`` may see it, else NotVisible (404)."""
    return _get(clients(user), client_id)


def kept_record_for(user: User, client_id):
    """The record a merged-away client was merged into, if ``user`` may see it; else None.

    Old links (a bookmark, a referral letter) to a merged record then lead to the kept one.
    """
    from salus.clients.models import Client

    try:
        merged = Client.objects.filter(id=client_id, merged_into__isnull=False).first()
    except (ValueError, TypeError, ValidationError):
        return None
    seen = 0
    while merged is not None and merged.merged_into_id is not None and seen < 20:
        merged = merged.merged_into
        seen += 1
    if merged is None:
        return None
    return clients(user).filter(id=merged.id).first()


def _get(qs: QuerySet[M], object_id) -> M:
    try:
        return qs.get(id=object_id)
    # qs.get raises its own model's DoesNotExist, a subclass of ObjectDoesNotExist.
    except (ObjectDoesNotExist, ValueError, TypeError, ValidationError):
        # A malformed id is "not found" too, never a 500.
        raise NotVisible() from None


def get_contact_for_user(user: User, contact_id) -> Contact:
    return _get(contacts(user), contact_id)


def get_referral_for_user(user: User, referral_id) -> Referral:
    return _get(referrals(user), referral_id)


def get_ost_episode_for_user(user: User, episode_id) -> OSTEpisode:
    return _get(ost_episodes(user), episode_id)


def check_site(user: User, site: Site, capability: str) -> None:
    """Raise PermissionDenied unless ``user`` may do ``capability`` at ``site``."""
    require(user, capability)
    ids = site_ids(user)
    if ids is not None and site.id not in ids:
        raise PermissionDenied("site")


def get_site_for_user(user: User, code: str) -> Site:
    """The site with ``code`` among the user's sites, else NotVisible."""
    return _get_site(sites(user), code)


def _get_site(qs: QuerySet, code: str) -> Site:
    try:
        return qs.get(code=code)
    except qs.model.DoesNotExist:
        raise NotVisible() from None


def redact_clinical(user: User, contact) -> None:
    """Blank the clinical compartment on ``contact`` (in memory) if the user may not see it."""
    if not can(user, "clinical.view"):
        contact.hiv_result = ""
        contact.hcv_result = ""
        contact.art_status = ""


def audit_events(user: User) -> QuerySet:
    """Audit events the user may read: events at their sites (coordinators), or every event
    (managers and administrators). Needs ``audit.view``."""
    from salus.core.models import AuditEvent, Site

    require(user, "audit.view")
    ids = site_ids(user)
    qs = AuditEvent.objects.all()
    if ids is None:
        return qs
    return qs.filter(site_code__in=Site.objects.filter(id__in=ids).values("code"))
