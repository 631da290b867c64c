"""Writes of person-centred care. Each ``do_*`` function is one transaction with its audit row.

The caller checks that the actor may do the write at the site (salus.care.access and
salus.core.access.check_site); these functions check the values.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from salus.care import goals as goal_ladder
from salus.care.models import (
    ClientWants,
    Feedback,
    FeedbackResponse,
    Goal,
    GoalEvent,
    Perpetrator,
    PromptCheck,
    RightsReport,
    ViolationType,
)
from salus.core import audit

# Longest free text accepted in one field, in characters.
MAX_TEXT = 2000


def _user(actor):
    return actor if getattr(actor, "pk", None) else None


@transaction.atomic
def do_note_prompts_shown(actor, *, client, site, rule_codes: list[str], shown_on: dt.date) -> PromptCheck | None:
    """Note that ``actor`` saw prompts ``rule_codes`` for ``client`` on ``shown_on``.

    One row per client, worker and day; nothing is written when no prompt applied.
    """
    if not rule_codes:
        return None
    check, created = PromptCheck.objects.get_or_create(
        client=client, shown_by=_user(actor), shown_on=shown_on,
        defaults={"site": site, "rule_codes": sorted(rule_codes)},
    )
    if created or sorted(rule_codes) != check.rule_codes:
        if not created:
            check.rule_codes = sorted(set(check.rule_codes) | set(rule_codes))
            check.save(update_fields=["rule_codes", "updated_at"])
        # How many prompts, not which: the audit log is read more widely than the client's record.
        audit.record(actor, "care.prompts_shown", check, site=site, detail={"prompts": len(check.rule_codes)})
    return check


@transaction.atomic
def do_record_naloxone_offer(actor, check: PromptCheck, *, accepted: bool) -> PromptCheck:
    """Record that naloxone was offered after the prompts in ``check``, and the answer."""
    check.naloxone_offered = True
    check.naloxone_accepted = bool(accepted)
    check.save(update_fields=["naloxone_offered", "naloxone_accepted", "updated_at"])
    audit.record(actor, "care.naloxone_offer", check, site=check.site, detail={"accepted": bool(accepted)})
    return check


@transaction.atomic
def do_choose_goal(actor, *, client, site, rung: str, chosen_on: dt.date) -> Goal:
    """Record a goal the client chose. Several may be held at once; choosing the same rung
    twice while the first is still held returns the existing goal."""
    if rung not in goal_ladder.ladder():
        raise ValueError(_("Unknown goal."))
    existing = Goal.objects.filter(client=client, rung=rung, ended_on__isnull=True).first()
    if existing is not None:
        return existing
    goal = Goal.objects.create(client=client, site=site, rung=rung, chosen_on=chosen_on, created_by=_user(actor))
    audit.record(actor, "care.goal_choose", goal, site=site, detail={"rung": rung})
    return goal


@transaction.atomic
def do_set_goal_aside(actor, goal: Goal, *, on: dt.date) -> Goal:
    """The client no longer pursues ``goal``; it stays on their timeline."""
    if on < goal.chosen_on:
        raise ValueError(_("A goal cannot be set aside before it was chosen."))
    goal.ended_on = on
    goal.save(update_fields=["ended_on"])
    audit.record(actor, "care.goal_set_aside", goal, site=goal.site)
    return goal


@transaction.atomic
def do_record_goal_event(actor, goal: Goal, *, site, kind: str, date: dt.date, contact=None) -> GoalEvent:
    """Record a step toward ``goal`` or a setback on ``date`` (at ``contact`` if given)."""
    if kind not in GoalEvent.Kind.values:
        raise ValueError(_("Unknown kind of goal event."))
    if date < goal.chosen_on:
        raise ValueError(_("This date is before the goal was chosen."))
    if contact is not None and contact.client_id != goal.client_id:
        raise ValueError(_("This contact is not with the same client."))
    ev = GoalEvent.objects.create(goal=goal, site=site, contact=contact, date=date, kind=kind, recorded_by=_user(actor))
    audit.record(actor, "care.goal_event", ev, site=site, detail={"kind": kind})
    return ev


def _check_text(name: str, value: str, errors: dict) -> None:
    if len(value or "") > MAX_TEXT:
        errors[name] = _("Please keep this under %(n)s characters.") % {"n": MAX_TEXT}


@transaction.atomic
def do_take_rights_report(actor, *, site, area, occurred_on: dt.date, violation_type: str, perpetrator: str,
                          client_wants: list[str], details: str = "", consent_advocacy: bool = False,
                          client=None, today: dt.date | None = None) -> RightsReport:
    """Record a rights violation a client chose to report. Raises ValueError with
    ``args[0]`` a {field: message} dict when a value is not valid."""
    errors: dict[str, str] = {}
    if violation_type not in ViolationType.values:
        errors["violation_type"] = _("Choose what happened.")
    if perpetrator not in Perpetrator.values:
        errors["perpetrator"] = _("Choose who did it.")
    wants = list(dict.fromkeys(client_wants or []))
    if any(w not in ClientWants.values for w in wants):
        errors["client_wants"] = _("Unknown choice.")
    if not wants:
        wants = [ClientWants.NOTHING]
    if today is not None and occurred_on > today:
        errors["occurred_on"] = _("This date is in the future.")
    _check_text("details", details, errors)
    if errors:
        raise ValueError(errors)
    report = RightsReport.objects.create(
        site=site, client=client, taken_by=_user(actor), occurred_on=occurred_on, area=area,
        violation_type=violation_type, perpetrator=perpetrator, client_wants=wants, details=details or "",
        consent_advocacy=bool(consent_advocacy),
    )
    audit.record(actor, "rights.report", report, site=site)
    return report


@transaction.atomic
def do_update_rights_response(actor, report: RightsReport, *, response: str, outcome: str,
                              consent_advocacy: bool | None = None) -> RightsReport:
    """Record the response given to a report and its outcome (and a change of consent)."""
    errors: dict[str, str] = {}
    if outcome not in RightsReport.Outcome.values:
        errors["outcome"] = _("Unknown outcome.")
    _check_text("response", response, errors)
    if errors:
        raise ValueError(errors)
    report.response = response or ""
    report.outcome = outcome
    fields = ["response", "outcome", "updated_at"]
    if consent_advocacy is not None:
        report.consent_advocacy = consent_advocacy
        fields.append("consent_advocacy")
    report.save(update_fields=fields)
    audit.record(actor, "rights.update", report, site=report.site, detail={"outcome": outcome})
    return report


@transaction.atomic
def do_submit_feedback(*, site, submitted_on: dt.date, language: str, satisfaction: int | None,
                       missing: str, went_wrong: str, suggestions: str) -> Feedback:
    """Store one anonymous piece of feedback. The audit row names the site only: the
    address of whoever filled in the form is deliberately not recorded."""
    errors: dict[str, str] = {}
    if satisfaction is not None and not 1 <= satisfaction <= 5:
        errors["satisfaction"] = _("Choose one of the faces.")
    for name, value in (("missing", missing), ("went_wrong", went_wrong), ("suggestions", suggestions)):
        _check_text(name, value, errors)
    if errors:
        raise ValueError(errors)
    fb = Feedback.objects.create(
        site=site, submitted_on=submitted_on, language=(language or "")[:10], satisfaction=satisfaction,
        missing=missing or "", went_wrong=went_wrong or "", suggestions=suggestions or "",
    )
    ip_token = audit.current_ip.set("")
    try:
        audit.record("anonymous", "feedback.submit", fb, site=site)
    finally:
        audit.current_ip.reset(ip_token)
    return fb


@transaction.atomic
def do_respond_to_feedback(actor, *, site, you_said: str, we_did: str, published: bool,
                           on: dt.date) -> FeedbackResponse:
    """Record what the site did in response to what people said ("you said, we did")."""
    errors: dict[str, str] = {}
    for name, value in (("you_said", you_said), ("we_did", we_did)):
        if not (value or "").strip():
            errors[name] = _("This field is required.")
        elif len(value) > 1000:
            errors[name] = _("Please keep this under %(n)s characters.") % {"n": 1000}
    if errors:
        raise ValueError(errors)
    row = FeedbackResponse.objects.create(
        site=site, you_said=you_said.strip(), we_did=we_did.strip(), published=bool(published),
        created_on=on, created_by=_user(actor),
    )
    audit.record(actor, "feedback.respond", row, site=site)
    return row
