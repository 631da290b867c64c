"""Opioid substitution treatment: GET/POST /ost-episodes, POST /ost-episodes/{id}/doses and
POST /ost-episodes/{id}/end. Needs ``ost.manage`` (clinicians, managers, administrators)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Literal, TypedDict

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from salus.api.errors import invalid
from salus.api.schemas import (
    ERRORS,
    ListParams,
    Page,
    StrictIn,
    check_dates,
    check_not_future,
    client_for_write,
    filter_site,
    site_for_write,
)
from salus.core import access
from salus.services.actions import (
    do_end_ost_episode,
    do_record_dose,
    do_start_ost_episode,
    local_date,
)
from salus.services.models import OSTDose, OSTEpisode

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

router = Router(tags=["ost"])

if TYPE_CHECKING:
    # The codes are read from the models' choices when the module loads, which a type checker
    # cannot follow: to it they are strings. Requests are validated against the Literal.
    MedicationCode = str
    EndReasonCode = str
    PhaseCode = str
else:
    MedicationCode = Literal[tuple(OSTEpisode.Medication.values)]
    EndReasonCode = Literal[tuple(OSTEpisode.EndReason.values)]
    PhaseCode = Literal[tuple(OSTDose.Phase.values)]


class DoseOut(Schema):
    id: uuid.UUID
    episode: uuid.UUID
    date: dt.date
    dose_mg: Decimal = Field(description="Dose in milligrams.")
    phase: str
    take_home_doses: int


class EpisodeOut(Schema):
    id: uuid.UUID
    client: uuid.UUID
    site: str
    medication: str
    start_date: dt.date
    end_date: dt.date | None
    end_reason: str
    doses_recorded: int
    last_dose: DoseOut | None


class EpisodeIn(StrictIn):
    client: uuid.UUID
    site: str = Field(max_length=40)
    medication: MedicationCode
    start_date: dt.date


class DoseIn(StrictIn):
    date: dt.date
    dose_mg: Decimal = Field(ge=0, le=2000, max_digits=7, decimal_places=2, description="Milligrams.")
    phase: PhaseCode
    take_home_doses: int = Field(0, ge=0, le=90)


class EndIn(StrictIn):
    end_date: dt.date
    end_reason: EndReasonCode


def serialise_dose(dose: OSTDose) -> dict:
    return {
        "id": dose.id, "episode": dose.episode_id, "date": dose.date,
        "dose_mg": Decimal(dose.dose_mg).quantize(Decimal("0.01")),
        "phase": dose.phase, "take_home_doses": dose.take_home_doses,
    }


class DoseSummary(TypedDict):
    doses_n: int
    last_dose_id: uuid.UUID | None


def with_dose_summary(qs: QuerySet[OSTEpisode]) -> QuerySet[WithAnnotations[OSTEpisode, DoseSummary]]:
    """Annotate episodes with their number of doses and the id of the latest one."""
    latest = OSTDose.objects.filter(episode=OuterRef("pk")).order_by("-date", "-id").values("id")[:1]
    return qs.annotate(doses_n=Count("doses"), last_dose_id=Subquery(latest))


def serialise_episode(ep: OSTEpisode) -> dict:
    """The episode with its dose count and latest dose, read afresh."""
    summarised = with_dose_summary(OSTEpisode.objects.filter(pk=ep.pk)).select_related("site").get()
    last_doses = OSTDose.objects.in_bulk([summarised.last_dose_id] if summarised.last_dose_id else [])
    return serialise_summarised_episode(summarised, last_doses)


def serialise_summarised_episode(
    ep: WithAnnotations[OSTEpisode, DoseSummary], last_doses: dict[uuid.UUID | None, OSTDose]
) -> dict:
    """An episode annotated by ``with_dose_summary``. ``last_doses`` maps dose id -> dose (a page
    fetches them in one query)."""
    last = last_doses.get(ep.last_dose_id)
    return {
        "id": ep.id, "client": ep.client_id, "site": ep.site.code, "medication": ep.medication,
        "start_date": ep.start_date, "end_date": ep.end_date, "end_reason": ep.end_reason,
        "doses_recorded": ep.doses_n, "last_dose": serialise_dose(last) if last else None,
    }


def _episode_for_write(user, episode_id) -> OSTEpisode:
    access.require(user, "ost.manage")
    ep = access.get_ost_episode_for_user(user, episode_id)
    access.check_site(user, ep.site, "ost.manage")
    return ep


@router.get("/ost-episodes", response={200: Page[EpisodeOut], **ERRORS})
def list_episodes(request, params: Query[ListParams], open_only: bool = False):
    """Episodes at the user's sites, newest start first. ``date_from``/``date_to`` keep episodes
    active at some point in the period; ``open_only`` keeps episodes not yet ended."""
    user = request.auth
    access.require(user, "ost.manage")
    check_dates(params)
    qs = filter_site(access.ost_episodes(user), user, params.site)
    if params.date_to:
        qs = qs.filter(start_date__lte=params.date_to)
    if params.date_from:
        qs = qs.exclude(end_date__lt=params.date_from)
    if open_only:
        qs = qs.filter(end_date__isnull=True)
    qs = with_dose_summary(qs).order_by("-start_date", "id")
    episodes = list(qs[params.offset : params.offset + params.limit])
    last_doses = OSTDose.objects.in_bulk([ep.last_dose_id for ep in episodes if ep.last_dose_id])
    return {"count": qs.count(), "limit": params.limit, "offset": params.offset,
            "items": [serialise_summarised_episode(ep, last_doses) for ep in episodes]}


@router.post("/ost-episodes", response={201: EpisodeOut, **ERRORS})
def start_episode(request, payload: EpisodeIn):
    """Open an episode for a client seen at the user's sites (one open episode per client)."""
    user = request.auth
    site = site_for_write(user, payload.site, "ost.manage")
    client = client_for_write(user, payload.client)
    check_not_future("start_date", payload.start_date, local_date(timezone.now()))
    if OSTEpisode.objects.filter(client=client, end_date__isnull=True).exists():
        raise invalid("client", _("This client already has an open OST episode; end it first."))
    ep = do_start_ost_episode(user, client=client, site=site, medication=payload.medication,
                              start_date=payload.start_date, source="api")
    return 201, serialise_episode(ep)


@router.post("/ost-episodes/{episode_id}/doses", response={201: DoseOut, **ERRORS})
def record_dose(request, episode_id: uuid.UUID, payload: DoseIn):
    """Record a dose given (or handed out to take home) on ``date``, within the episode."""
    user = request.auth
    ep = _episode_for_write(user, episode_id)
    check_not_future("date", payload.date, local_date(timezone.now()))
    if payload.date < ep.start_date or (ep.end_date and payload.date > ep.end_date):
        raise invalid("date", _("The dose date must fall within the episode."))
    dose = do_record_dose(user, ep, date=payload.date, dose_mg=payload.dose_mg, phase=payload.phase,
                          take_home_doses=payload.take_home_doses)
    return 201, serialise_dose(dose)


@router.post("/ost-episodes/{episode_id}/end", response={200: EpisodeOut, **ERRORS})
def end_episode(request, episode_id: uuid.UUID, payload: EndIn):
    """Close an open episode on ``end_date`` for ``end_reason``."""
    user = request.auth
    ep = _episode_for_write(user, episode_id)
    if ep.end_date is not None:
        raise invalid("end_date", _("This episode has already ended."))
    check_not_future("end_date", payload.end_date, local_date(timezone.now()))
    if payload.end_date < ep.start_date:
        raise invalid("end_date", _("The end date cannot be before the start date."))
    ep = do_end_ost_episode(user, ep, end_date=payload.end_date, end_reason=payload.end_reason)
    return serialise_episode(ep)
