"""Person-centred care in the JSON API, under /api/v1/care/ (same rules as the web pages).

- GET  /clients/{id}/risk-prompts        overdose-risk prompts today (care.view)
- POST /clients/{id}/naloxone-offers     naloxone offered after today's prompts, accepted or not
- GET  /clients/{id}/goals               the client's goals and their steps and setbacks
- POST /clients/{id}/goals               note a goal the client chose
- POST /goals/{id}/events                a step toward a goal or a setback
- GET  /high-risk                        clients in a high-risk window (care.high_risk_list)
- GET  /rights-reports                   reports readable by the user (rights.view + grant)
- POST /rights-reports                   take a report (rights.report)
- GET  /rights-reports/{id}              one report; audited
- GET  /feedback                         community feedback at the user's sites (feedback.view)
- GET  /feedback/responses               "you said, we did" at the user's sites (feedback.view)
- POST /feedback/responses               record one
- GET  /summary?period=2026Q2            prompts, naloxone offers, goals (indicators.view; suppressed)
- GET  /rights-advocacy?period=2026      consented rights reports counted (rights.view; suppressed)
- POST /language/check                   stigmatising terms in a text, with alternatives
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Literal

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from salus.api.errors import ApiError, invalid
from salus.api.schemas import ERRORS, StrictIn, site_for_write
from salus.care import access as care_access
from salus.care import actions, aggregates, goals, language
from salus.care.models import ClientWants, GoalEvent, Perpetrator, ViolationType
from salus.care.prompts import care_site, high_risk_rows, program_today, prompts_noted
from salus.core import access, audit
from salus.core.models import Area

router = Router(tags=["care"])

RuleCode = str
if TYPE_CHECKING:
    # The codes are read from the models' choices when the module loads, which a type checker
    # cannot follow: to it they are strings. Requests are validated against the Literal.
    KindCode = str
    ViolationCode = str
    PerpetratorCode = str
    WantsCode = str
else:
    KindCode = Literal[tuple(GoalEvent.Kind.values)]
    ViolationCode = Literal[tuple(ViolationType.values)]
    PerpetratorCode = Literal[tuple(Perpetrator.values)]
    WantsCode = Literal[tuple(ClientWants.values)]


class PromptOut(Schema):
    rule: RuleCode = Field(description="Code of the rule (salus.care.rules.RULES).")
    title: str
    message: str
    offer: str = Field(description="What to offer.")
    evidence: str
    urgent: bool = Field(description="True in the most dangerous part of the window.")


class PromptsOut(Schema):
    client: uuid.UUID
    date: dt.date
    prompts: list[PromptOut]
    naloxone_offered: bool | None
    naloxone_accepted: bool | None


class NaloxoneOfferIn(StrictIn):
    accepted: bool


class GoalEventOut(Schema):
    id: uuid.UUID
    date: dt.date
    kind: str


class GoalOut(Schema):
    id: uuid.UUID
    rung: str
    label: str
    site: str
    chosen_on: dt.date
    ended_on: dt.date | None
    events: list[GoalEventOut]


class GoalIn(StrictIn):
    rung: str = Field(max_length=40, description="One of the program's goal_ladder codes.")


class GoalEventIn(StrictIn):
    kind: KindCode
    date: dt.date | None = Field(None, description="Default today.")
    contact: uuid.UUID | None = Field(None, description="The contact in which it was noted.")


class HighRiskOut(Schema):
    client: uuid.UUID
    reference: str
    urgent: bool
    rules: list[str]


class RightsReportIn(StrictIn):
    site: str = Field(max_length=40)
    occurred_on: dt.date
    area: str = Field(max_length=400, description="Area path, e.g. XL/NORTH/N1: never an exact place.")
    violation_type: ViolationCode
    perpetrator: PerpetratorCode
    client_wants: list[WantsCode] = Field(default_factory=list, max_length=4)
    details: str = Field("", max_length=actions.MAX_TEXT)
    consent_advocacy: bool = False


class RightsReportRef(Schema):
    id: uuid.UUID
    reference: str
    created_at: dt.datetime


class RightsReportOut(RightsReportRef):
    site: str
    occurred_on: dt.date
    area: str
    violation_type: str
    perpetrator: str
    client_wants: list[str]
    details: str
    response: str
    outcome: str
    consent_advocacy: bool


class FeedbackOut(Schema):
    id: uuid.UUID
    site: str
    submitted_on: dt.date
    language: str
    satisfaction: int | None
    missing: str
    went_wrong: str
    suggestions: str


class ResponseIn(StrictIn):
    site: str = Field(max_length=40)
    you_said: str = Field(min_length=1, max_length=1000)
    we_did: str = Field(min_length=1, max_length=1000)
    published: bool = True


class ResponseOut(Schema):
    id: uuid.UUID
    site: str
    you_said: str
    we_did: str
    published: bool
    created_on: dt.date


class RungOut(Schema):
    rung: str
    holding: int | None
    stepped: int | None


class SummaryOut(Schema):
    period: str
    threshold: int
    suppressed: bool = Field(description="True when counts from 1 to threshold - 1 are null.")
    prompts: dict[str, int | None] = Field(description="shown, offered, accepted.")
    by_rule: dict[str, int | None]
    goals: dict[str, int | None] = Field(description="with: people holding a goal; step: people who made a step.")
    by_rung: list[RungOut]


class AdvocacyOut(Schema):
    period: str
    total: int | None
    type: dict[str, int | None]
    perpetrator: dict[str, int | None]
    area: dict[str, int | None]
    quarter: dict[str, int | None]


class TextIn(StrictIn):
    text: str = Field(max_length=20000)


class FindingOut(Schema):
    term: str
    text: str
    level: str
    line: int
    start: int
    end: int
    alternatives: list[str]
    source: str


def _care_client(user, client_id):
    try:
        return care_access.get_care_client_for_user(user, client_id)
    except access.NotVisible:
        raise ApiError(404, _("Not found.")) from None


@router.get("/clients/{client_id}/risk-prompts", response={200: PromptsOut, **ERRORS})
def client_risk_prompts(request, client_id: uuid.UUID):
    """The overdose-risk prompts that apply to the client today, from the records the user may
    see. Counts as showing them (one per client, user and day)."""
    user = request.auth
    client = _care_client(user, client_id)
    audit.record(user, "client.view", client, detail={"page": "care-api"})
    today = program_today()
    prompts, check = prompts_noted(client, user, today)
    return {
        "client": client.id, "date": today,
        "prompts": [{"rule": p.code, "title": str(p.rule.title), "message": p.message, "offer": str(p.rule.offer),
                     "evidence": p.rule.evidence, "urgent": p.urgent} for p in prompts],
        "naloxone_offered": check.naloxone_offered if check else None,
        "naloxone_accepted": check.naloxone_accepted if check else None,
    }


@router.post("/clients/{client_id}/naloxone-offers", response={201: PromptsOut, **ERRORS})
def naloxone_offer(request, client_id: uuid.UUID, payload: NaloxoneOfferIn):
    """Record that naloxone was offered after today's prompts, and the answer."""
    user = request.auth
    client = _care_client(user, client_id)
    today = program_today()
    prompts, check = prompts_noted(client, user, today)
    if check is None:
        raise invalid("accepted", _("No overdose-risk prompt applies today, so there is no offer to record."))
    actions.do_record_naloxone_offer(user, check, accepted=payload.accepted)
    return 201, {
        "client": client.id, "date": today,
        "prompts": [{"rule": p.code, "title": str(p.rule.title), "message": p.message, "offer": str(p.rule.offer),
                     "evidence": p.rule.evidence, "urgent": p.urgent} for p in prompts],
        "naloxone_offered": True, "naloxone_accepted": payload.accepted,
    }


def _goal_out(g) -> dict:
    return {
        "id": g.id, "rung": g.rung, "label": goals.rung_label(g.rung), "site": g.site.code,
        "chosen_on": g.chosen_on, "ended_on": g.ended_on,
        "events": [{"id": e.id, "date": e.date, "kind": e.kind} for e in g.events.all()],
    }


@router.get("/clients/{client_id}/goals", response={200: list[GoalOut], **ERRORS})
def client_goals(request, client_id: uuid.UUID):
    user = request.auth
    client = _care_client(user, client_id)
    return [_goal_out(g) for g in care_access.goals(user).filter(client=client).prefetch_related("events").order_by("chosen_on")]


@router.post("/clients/{client_id}/goals", response={201: GoalOut, **ERRORS})
def choose_goal(request, client_id: uuid.UUID, payload: GoalIn):
    """Note a goal the client chose; the same goal already held is returned as it is."""
    user = request.auth
    client = _care_client(user, client_id)
    site = care_site(user, client)
    if site is None:
        raise ApiError(403, _("You do not work at a site where this client is served."))
    try:
        goal = actions.do_choose_goal(user, client=client, site=site, rung=payload.rung, chosen_on=program_today())
    except ValueError as exc:
        raise invalid("rung", str(exc)) from None
    return 201, _goal_out(goal)


@router.post("/goals/{goal_id}/events", response={201: GoalEventOut, **ERRORS})
def goal_event(request, goal_id: uuid.UUID, payload: GoalEventIn):
    user = request.auth
    try:
        goal = care_access.get_goal_for_user(user, goal_id)
    except access.NotVisible:
        raise ApiError(404, _("Not found.")) from None
    today = program_today()
    day = payload.date or today
    if day > today:
        raise invalid("date", _("This date is in the future."))
    contact = None
    if payload.contact is not None:
        contact = access.contacts(user).filter(pk=payload.contact, client_id=goal.client_id).first()
        if contact is None:
            raise invalid("contact", _("No such contact for this client at your sites."))
    try:
        ev = actions.do_record_goal_event(user, goal, site=goal.site, kind=payload.kind, date=day, contact=contact)
    except ValueError as exc:
        raise invalid("date", str(exc)) from None
    return 201, {"id": ev.id, "date": ev.date, "kind": ev.kind}


@router.get("/high-risk", response={200: list[HighRiskOut], **ERRORS})
def high_risk(request):
    """Clients at the user's sites inside a high-risk window today (care.high_risk_list)."""
    user = request.auth
    access.require(user, "care.high_risk_list")
    rows = high_risk_rows(user, program_today())
    audit.record(user, "care.high_risk_list", detail={"clients": len(rows), "via": "api"})
    return [{"client": r["client"].id, "reference": r["client"].reference, "urgent": r["urgent"],
             "rules": [p.code for p in r["prompts"]]} for r in rows]


def _report_out(r) -> dict:
    return {
        "id": r.id, "reference": str(r), "created_at": r.created_at, "site": r.site.code, "occurred_on": r.occurred_on,
        "area": r.area.path, "violation_type": r.violation_type, "perpetrator": r.perpetrator,
        "client_wants": r.client_wants, "details": r.details, "response": r.response, "outcome": r.outcome,
        "consent_advocacy": r.consent_advocacy,
    }


@router.get("/rights-reports", response={200: list[RightsReportRef], **ERRORS})
def list_rights_reports(request):
    """References of the reports the user may read (rights.view with the focal person grant),
    or, for anyone else who may take reports, of the reports they took. Content: GET one."""
    user = request.auth
    if access.can(user, "rights.view"):
        qs = care_access.rights_reports(user)
    else:
        qs = care_access.own_rights_reports(user)
    return [{"id": r.id, "reference": str(r), "created_at": r.created_at} for r in qs.order_by("-created_at")[:500]]


@router.post("/rights-reports", response={201: RightsReportRef, **ERRORS})
def take_rights_report(request, payload: RightsReportIn):
    user = request.auth
    site = site_for_write(user, payload.site, "rights.report")
    area = Area.objects.filter(path=payload.area.strip().strip("/")).first()
    if area is None:
        raise invalid("area", _("Unknown area."))
    try:
        report = actions.do_take_rights_report(
            user, site=site, area=area, occurred_on=payload.occurred_on, violation_type=payload.violation_type,
            perpetrator=payload.perpetrator, client_wants=list(payload.client_wants), details=payload.details,
            consent_advocacy=payload.consent_advocacy, today=program_today(),
        )
    except ValueError as exc:
        field, message = next(iter(exc.args[0].items()))
        raise invalid(field, message) from None
    return 201, {"id": report.id, "reference": str(report), "created_at": report.created_at}


@router.get("/rights-reports/{report_id}", response={200: RightsReportOut, **ERRORS})
def get_rights_report(request, report_id: uuid.UUID):
    """One report, for the rights focal person at its site. Every read is audited."""
    user = request.auth
    try:
        report = care_access.get_rights_report_for_user(user, report_id)
    except access.NotVisible:
        raise ApiError(404, _("Not found.")) from None
    audit.record(user, "rights.view", report, site=report.site, detail={"via": "api"})
    return _report_out(report)


@router.get("/feedback", response={200: list[FeedbackOut], **ERRORS})
def list_feedback(request, date_from: dt.date | None = None, date_to: dt.date | None = None):
    user = request.auth
    qs = care_access.feedback(user)
    if date_from:
        qs = qs.filter(submitted_on__gte=date_from)
    if date_to:
        qs = qs.filter(submitted_on__lte=date_to)
    return [{
        "id": f.id, "site": f.site.code, "submitted_on": f.submitted_on, "language": f.language,
        "satisfaction": f.satisfaction, "missing": f.missing, "went_wrong": f.went_wrong, "suggestions": f.suggestions,
    } for f in qs.order_by("-submitted_on")[:1000]]


def _response_out(r) -> dict:
    return {"id": r.id, "site": r.site.code, "you_said": r.you_said, "we_did": r.we_did, "published": r.published,
            "created_on": r.created_on}


@router.get("/feedback/responses", response={200: list[ResponseOut], **ERRORS})
def list_feedback_responses(request):
    return [_response_out(r) for r in care_access.feedback_responses(request.auth).order_by("-created_on")[:500]]


@router.post("/feedback/responses", response={201: ResponseOut, **ERRORS})
def respond_to_feedback(request, payload: ResponseIn):
    """Record what a site did in response to what people said ("you said, we did")."""
    user = request.auth
    site = site_for_write(user, payload.site, "feedback.view")
    try:
        row = actions.do_respond_to_feedback(user, site=site, you_said=payload.you_said, we_did=payload.we_did,
                                             published=payload.published, on=program_today())
    except ValueError as exc:
        field, message = next(iter(exc.args[0].items()))
        raise invalid(field, message) from None
    return 201, _response_out(row)


def _period_param(text: str | None, default):
    from salus.indicators.periods import PeriodError, parse_period

    if not text:
        return default
    try:
        return parse_period(text)
    except PeriodError:
        raise invalid("period", _("Write a year (2026), a quarter (2026Q2) or a month (2026-05).")) from None


@router.get("/summary", response={200: SummaryOut, **ERRORS})
def care_summary(request, period: str | None = None):
    """Prompts shown, naloxone offered and accepted, goals: counts at the user's sites."""
    user = request.auth
    care_access.aggregate_sites(user)
    return aggregates.care_summary(user, _period_param(period, aggregates.current_quarter(program_today())))


@router.get("/rights-advocacy", response={200: AdvocacyOut, **ERRORS})
def rights_advocacy(request, period: str | None = None):
    """Consented rights-violation reports counted by type, perpetrator, area and quarter."""
    from salus.indicators.periods import parse_period

    user = request.auth
    access.require(user, "rights.view")
    chosen = _period_param(period, parse_period(str(program_today().year)))
    report = aggregates.advocacy_report(user, chosen)
    audit.record(user, "rights.advocacy", detail={"period": chosen.label, "via": "api"})
    return {"period": chosen.label, **{k: ({str(kk): vv for kk, vv in v.items()} if isinstance(v, dict) else v)
                                       for k, v in report.items()}}


@router.post("/language/check", response={200: list[FindingOut], **ERRORS})
def language_check(request, payload: TextIn):
    """Stigmatising terms in ``text`` and person-first alternatives (a warning, never a block)."""
    access.require(request.auth, "contact.record")
    return [f.as_dict() for f in language.check_text(payload.text)]
