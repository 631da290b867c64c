"""Web pages of person-centred care: small function views over salus.care.access and actions."""

from __future__ import annotations

import datetime as dt
import io
import uuid

import segno
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from salus.care import access as care_access
from salus.care import actions, aggregates, feedback, goals, language, rules
from salus.care.forms import (
    FeedbackForm,
    FeedbackResponseForm,
    RightsReportForm,
    RightsResponseForm,
)
from salus.care.models import ClientWants, FeedbackResponse, GoalEvent, Perpetrator, ViolationType
from salus.care.prompts import care_site, high_risk_rows, program_today, prompts_noted
from salus.core import access, audit
from salus.core.config import program_config
from salus.core.models import Site
from salus.indicators.periods import PeriodError, parse_period
from salus.web.views.common import requires

# The languages a client may pick on the feedback form (those Salus is translated into).
FEEDBACK_LANGUAGES = [code for code, _name in settings.LANGUAGES]


def panel_context(client, user, today: dt.date | None = None) -> dict:
    """What the risk and goal panel shows for ``client`` (salus.care.templatetags)."""
    today = today or program_today()
    prompts, check = prompts_noted(client, user, today)
    client_goals = list(care_access.goals(user).filter(client=client).prefetch_related("events").order_by("chosen_on"))
    for g in client_goals:
        g.label = goals.rung_label(g.rung)
    return {
        "client": client, "prompts": prompts, "check": check, "goals": client_goals,
        # Goals the person may still add: any rung not already held.
        "addable_rungs": [(code, label) for code, label in goals.rung_choices()
                          if code not in {g.rung for g in client_goals if g.ended_on is None}],
        "event_kinds": GoalEvent.Kind.choices, "today": today,
    }


@requires("care.view")
def client_care(request, client_id):
    """A client's risk prompts, goals and the path toward them over time."""
    client = care_access.get_care_client_for_user(request.user, client_id)
    audit.record(request.user, "client.view", client, detail={"page": "care"})
    context = panel_context(client, request.user)
    timeline = []
    for g in context["goals"]:
        timeline.append((g.chosen_on, "chosen", g, None))
        for ev in g.events.all():
            timeline.append((ev.date, ev.kind, g, ev))
        if g.ended_on:
            timeline.append((g.ended_on, "set_aside", g, None))
    timeline.sort(key=lambda row: row[0], reverse=True)
    context.update(timeline=timeline, show=True, next=request.get_full_path())
    return render(request, "care/client.html", context)


def _back_to_client(request, client_id):
    """Back to the page the form was on (this site only), else the client's care page."""
    nxt = request.POST.get("next", "")
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(nxt)
    return redirect("care-client", client_id=client_id)


@require_POST
@requires("care.view")
def naloxone_offer(request, client_id):
    """Record that naloxone was offered after today's prompts, and whether it was accepted."""
    client = care_access.get_care_client_for_user(request.user, client_id)
    _prompts, check = prompts_noted(client, request.user)
    if check is None:
        messages.error(request, _("No overdose-risk prompt applies today, so there is no offer to record."))
    else:
        actions.do_record_naloxone_offer(request.user, check, accepted=request.POST.get("accepted") == "yes")
        messages.success(request, _("Naloxone offer recorded."))
    return _back_to_client(request, client.id)


@require_POST
@requires("care.view")
def goal_add(request, client_id):
    client = care_access.get_care_client_for_user(request.user, client_id)
    site = care_site(request.user, client)
    if site is None:
        raise PermissionDenied("site")
    access.check_site(request.user, site, "care.view")
    try:
        actions.do_choose_goal(request.user, client=client, site=site, rung=request.POST.get("rung", ""),
                               chosen_on=program_today())
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Goal noted."))
    return _back_to_client(request, client.id)


@require_POST
@requires("care.view")
def goal_event(request, goal_id):
    """Note a step toward a goal or a setback, today, at the goal's site."""
    goal = care_access.get_goal_for_user(request.user, goal_id)
    today = program_today()
    # Noted during today's contact with the person, when there is one here.
    contact = access.contacts(request.user).filter(client_id=goal.client_id, date=today).order_by("-occurred_at").first()
    try:
        actions.do_record_goal_event(request.user, goal, site=contact.site if contact else goal.site,
                                     kind=request.POST.get("kind", ""), date=today, contact=contact)
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Noted."))
    return _back_to_client(request, goal.client_id)


@require_POST
@requires("care.view")
def goal_set_aside(request, goal_id):
    goal = care_access.get_goal_for_user(request.user, goal_id)
    if goal.ended_on is None:
        actions.do_set_goal_aside(request.user, goal, on=max(program_today(), goal.chosen_on))
        messages.success(request, _("Goal set aside. It stays on the timeline."))
    return _back_to_client(request, goal.client_id)


@requires("care.high_risk_list")
def high_risk(request):
    today = program_today()
    rows = high_risk_rows(request.user, today)
    audit.record(request.user, "care.high_risk_list", detail={"clients": len(rows)})
    return render(request, "care/high_risk.html", {"rows": rows, "today": today})


def _use_requested_language(request) -> None:
    """Show this page in the language named by ``?lang=`` (a printed report or poster may be
    needed in another language than the one the staff member reads)."""
    lang = request.GET.get("lang", "")
    if lang in FEEDBACK_LANGUAGES:
        translation.activate(lang)
        request.LANGUAGE_CODE = lang


def _period(request):
    text = request.GET.get("period", "")
    try:
        return parse_period(text) if text else aggregates.current_quarter(program_today())
    except PeriodError:
        return aggregates.current_quarter(program_today())


@requires("indicators.view")
def summary(request):
    """Program aggregates: prompts shown, naloxone offered and accepted, goals by rung."""
    user = request.user
    care_access.aggregate_sites(user)
    data = aggregates.care_summary(user, _period(request))
    return render(request, "care/summary.html", {
        "period": _period(request), "data": data, "threshold": data["threshold"],
        "rule_rows": [(r.title, data["by_rule"][r.code]) for r in rules.RULES],
        "rung_rows": [(goals.rung_label(row["rung"]), row["holding"], row["stepped"]) for row in data["by_rung"]],
    })


# -- Rights violations ------------------------------------------------------------------

@requires("rights.report")
def rights_list(request):
    """Reports the user may read, or only the existence of the reports the user took."""
    user = request.user
    if access.can(user, "rights.view"):
        reports = list(care_access.rights_reports(user).order_by("-occurred_on")[:500])
        audit.record(user, "rights.list", detail={"count": len(reports)})
        return render(request, "care/rights_list.html", {"reports": reports, "full": True})
    own = care_access.own_rights_reports(user).order_by("-created_at")[:500]
    return render(request, "care/rights_list.html", {"reports": own, "full": False})


def _uuid_or_none(value: str):
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


@requires("rights.report")
def rights_new(request):
    user = request.user
    if request.method == "POST" and request.POST.get("site"):
        # A crafted post naming another site is refused outright, not shown as a form error.
        posted = Site.objects.filter(pk=_uuid_or_none(request.POST["site"])).first()
        if posted is not None:
            access.check_site(user, posted, "rights.report")
    # Taken from a client's page, the report is linked to that record (the person agreeing):
    # only a client the user may open can be named; anything else is a 404, as everywhere.
    linked_id = request.POST.get("client") or request.GET.get("client")
    client = access.get_client_for_user(user, linked_id) if linked_id else None
    sites = list(access.sites(user))
    form = RightsReportForm(request.POST or None, sites=sites)
    if request.method == "POST" and form.is_valid():
        site = form.cleaned_data["site"]
        access.check_site(user, site, "rights.report")
        try:
            report = actions.do_take_rights_report(
                user, site=site, area=form.cleaned_data["area"], occurred_on=form.cleaned_data["occurred_on"],
                violation_type=form.cleaned_data["violation_type"], perpetrator=form.cleaned_data["perpetrator"],
                client_wants=form.cleaned_data["client_wants"], details=form.cleaned_data["details"],
                consent_advocacy=form.cleaned_data["consent_advocacy"], client=client, today=program_today(),
            )
        except ValueError as exc:
            for field, message in exc.args[0].items():
                form.add_error(field if field in form.fields else None, message)
        else:
            messages.success(request, _("Report recorded. Reference %(ref)s.") % {"ref": str(report.id)[:8].upper()})
            return redirect("care-rights-list")
    return render(request, "care/rights_new.html", {"form": form, "client": client})


@requires("rights.view")
def rights_detail(request, report_id):
    """One report; every view is audited. POST records the response and outcome."""
    user = request.user
    report = care_access.get_rights_report_for_user(user, report_id)
    form = RightsResponseForm(
        request.POST or None,
        initial={"response": report.response, "outcome": report.outcome, "consent_advocacy": report.consent_advocacy},
    )
    if request.method == "POST" and form.is_valid():
        try:
            actions.do_update_rights_response(
                user, report, response=form.cleaned_data["response"], outcome=form.cleaned_data["outcome"],
                consent_advocacy=form.cleaned_data["consent_advocacy"],
            )
        except ValueError as exc:
            for field, message in exc.args[0].items():
                form.add_error(field if field in form.fields else None, message)
        else:
            messages.success(request, _("Response recorded."))
            return redirect("care-rights-detail", report_id=report.id)
    audit.record(user, "rights.view", report, site=report.site)
    wants = dict(ClientWants.choices)
    # The linked client record is shown only to a reader who may open it anyway.
    linked_client = None
    if report.client_id and access.can(user, "client.view"):
        linked_client = access.clients(user).filter(pk=report.client_id).first()
    return render(request, "care/rights_detail.html", {
        "report": report, "form": form, "wants": [wants.get(w, w) for w in report.client_wants],
        "linked_client": linked_client,
    })


@requires("rights.view")
def rights_advocacy(request):
    """Counts for anonymous advocacy: only reports with the client's consent, suppressed."""
    user = request.user
    _use_requested_language(request)
    period = _period(request) if request.GET.get("period") else parse_period(str(program_today().year))
    report = aggregates.advocacy_report(user, period)
    labels = {"type": dict(ViolationType.choices), "perpetrator": dict(Perpetrator.choices)}
    tables = []
    for key, title in (
        ("type", _("What happened")), ("perpetrator", _("Who did it")), ("area", _("Area")), ("quarter", _("Quarter")),
    ):
        rows = sorted(report[key].items(), key=lambda kv: str(kv[0]))
        tables.append((title, [(labels.get(key, {}).get(k, k), v) for k, v in rows]))
    audit.record(user, "rights.advocacy", detail={"period": period.label})
    return render(request, "care/rights_advocacy.html", {
        "period": period, "tables": tables, "total": report["total"],
        "threshold": program_config().suppression_threshold,
    })


# -- Community feedback -------------------------------------------------------------------

def _content_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


def _public(context: dict) -> dict:
    """The context of a page for clients: even if a staff member is logged in on this device,
    the page shows no staff menu, name or tools (a shared tablet is in clients' hands)."""
    from django.contrib.auth.models import AnonymousUser

    from salus.web.context import Capabilities

    return {**context, "user": AnonymousUser(), "nav_items": [], "salus_can": Capabilities(None)}


def feedback_form(request, key):
    """The anonymous feedback form of one site: no log-in, no identifier kept."""
    if not key or len(key) > 40:
        raise Http404
    site = Site.objects.filter(feedback_key=key, active=True).first()
    if site is None:
        raise Http404
    if request.method == "POST" and _content_length(request) > feedback.MAX_BODY_BYTES:
        return HttpResponse(_("Too long. Please write less."), status=413, content_type="text/plain; charset=utf-8")
    lang = request.GET.get("lang") or request.POST.get("lang") or ""
    if lang in FEEDBACK_LANGUAGES:
        translation.activate(lang)
        request.LANGUAGE_CODE = lang
    responses = list(feedback_responses_public(site))
    if request.method == "POST":
        form = FeedbackForm(request.POST)
        if request.POST.get(feedback.HONEYPOT_FIELD):
            # Filled by a robot: answer as if stored, store nothing.
            return render(request, "care/feedback_thanks.html", _public({"site": site, "responses": responses}))
        if form.is_valid():
            if not feedback.allow_submission(site, _client_address(request), timezone.now()):
                return render(request, "care/feedback_form.html", _public({
                    "site": site, "form": form, "responses": responses, "feedback_languages": FEEDBACK_LANGUAGES,
                    "limited": True,
                }), status=429)
            d = form.cleaned_data
            actions.do_submit_feedback(
                site=site, submitted_on=program_today(), language=translation.get_language() or "",
                satisfaction=int(d["satisfaction"]) if d["satisfaction"] else None,
                missing=d["missing"], went_wrong=d["went_wrong"], suggestions=d["suggestions"],
            )
            return render(request, "care/feedback_thanks.html", _public({"site": site, "responses": responses}))
    else:
        form = FeedbackForm()
    return render(request, "care/feedback_form.html", _public({
        "site": site, "form": form, "responses": responses, "feedback_languages": FEEDBACK_LANGUAGES,
    }))


def feedback_responses_public(site):
    return FeedbackResponse.objects.filter(site=site, published=True).order_by("-created_on")[:10]


@requires("feedback.view")
def feedback_list(request):
    user = request.user
    period = _period(request)
    sites = list(care_access.sites_with(user, "feedback.view"))
    rows = list(care_access.feedback(user).filter(submitted_on__range=(period.start, period.end)).order_by("-submitted_on")[:500])
    scores = [r.satisfaction for r in rows if r.satisfaction]
    return render(request, "care/feedback_list.html", {
        "period": period, "rows": rows, "sites": sites,
        "average": round(sum(scores) / len(scores), 1) if scores else None, "answered": len(scores),
        "responses": care_access.feedback_responses(user).order_by("-created_on")[:50],
        "form": FeedbackResponseForm(sites=sites),
    })


@require_POST
@requires("feedback.view")
def feedback_respond(request):
    user = request.user
    posted = Site.objects.filter(pk=_uuid_or_none(request.POST.get("site", ""))).first()
    if posted is not None:
        access.check_site(user, posted, "feedback.view")
    sites = list(care_access.sites_with(user, "feedback.view"))
    form = FeedbackResponseForm(request.POST, sites=sites)
    if form.is_valid():
        site = form.cleaned_data["site"]
        access.check_site(user, site, "feedback.view")
        actions.do_respond_to_feedback(
            user, site=site, you_said=form.cleaned_data["you_said"], we_did=form.cleaned_data["we_did"],
            published=form.cleaned_data["published"], on=program_today(),
        )
        messages.success(request, _("Response recorded."))
    else:
        messages.error(request, _("Please fill in what people said and what was done."))
    return redirect("care-feedback-list")


def _feedback_url(request, site) -> str:
    return request.build_absolute_uri(reverse("care-feedback-form", args=[site.feedback_key]))


@requires("feedback.view")
def feedback_qr(request, site_code):
    """The QR code of a site's feedback link, as SVG (no external service)."""
    site = access.get_site_for_user(request.user, site_code)
    buf = io.BytesIO()
    segno.make(_feedback_url(request, site), error="m").save(buf, kind="svg", scale=6, title=site.name)
    return HttpResponse(buf.getvalue(), content_type="image/svg+xml")


@requires("feedback.view")
def feedback_poster(request, site_code):
    """A printable page for the site: the feedback link, its QR code and "you said, we did"."""
    site = access.get_site_for_user(request.user, site_code)
    _use_requested_language(request)
    return render(request, "care/feedback_poster.html", {
        "site": site, "url": _feedback_url(request, site), "responses": feedback_responses_public(site),
    })


# -- Respectful language ------------------------------------------------------------------

@require_POST
@requires("contact.record")
def language_check(request):
    """Warnings for a piece of free text (htmx fragment); never blocks anything."""
    text = request.POST.get("notes", request.POST.get("text", ""))[:20000]
    return render(request, "care/language_warnings.html", {"findings": language.check_text(text)})
