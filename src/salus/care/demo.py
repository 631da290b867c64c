"""Synthetic person-centred care records for the demo program (salus.transfer.demo).

Every record here is invented: goals with steps and setbacks, rights-violation reports with
responses, anonymous feedback and "you said, we did" responses. The demo coordinator is given
the rights focal person grant so that the rights screens can be seen in the demo.
"""

from __future__ import annotations

import datetime as dt

from salus.care import actions
from salus.care.goals import ladder
from salus.care.models import ClientWants, Perpetrator, RightsReport, ViolationType
from salus.core import audit

# Share of demo clients who chose at least one goal.
GOAL_SHARE = 0.35
RIGHTS_REPORTS = 40
# Clients given a recent contact that records a high-risk window.
RISK_CLIENTS = 16
FEEDBACK_ITEMS = 90

# (violation type, weight, likely perpetrators): police harassment and confiscation dominate
# in REAct-style data from settings where drug use is criminalised.
VIOLATIONS = (
    (ViolationType.POLICE_HARASSMENT, 10, (Perpetrator.POLICE,)),
    (ViolationType.CONFISCATION, 6, (Perpetrator.POLICE,)),
    (ViolationType.DETENTION, 4, (Perpetrator.POLICE,)),
    (ViolationType.HEALTH_CARE_DENIAL, 4, (Perpetrator.HEALTH_WORKER,)),
    (ViolationType.DISCRIMINATION, 3, (Perpetrator.EMPLOYER, Perpetrator.SOCIAL_SERVICES, Perpetrator.HEALTH_WORKER)),
    (ViolationType.VIOLENCE, 3, (Perpetrator.POLICE, Perpetrator.FAMILY, Perpetrator.COMMUNITY, Perpetrator.UNKNOWN)),
    (ViolationType.FORCED_TESTING, 2, (Perpetrator.POLICE, Perpetrator.HEALTH_WORKER)),
)
DETAILS = (
    "Synthetic example: stopped on the way to the site and searched.",
    "Synthetic example: kit taken during a search, no receipt given.",
    "Synthetic example: asked for money to be let go.",
    "Synthetic example: turned away at the clinic after saying they use drugs.",
    "",
)
RESPONSES = (
    "Synthetic example: referred to the partner lawyer; kit replaced.",
    "Synthetic example: accompanied to the clinic the next day.",
    "Synthetic example: documented for the quarterly meeting with the police liaison.",
)
FEEDBACK_TEXT = {
    "missing": ("More naloxone kits", "Longer opening hours", "A place to rest", "Wound care on weekends", ""),
    "went_wrong": ("Waited a long time", "Ran out of small syringes", "", "", ""),
    "suggestions": ("Open on Sunday", "Peer workers at the market", "Tea and a shower", "", ""),
}
YOU_SAID_WE_DID = (
    ("You said the drop-in closes too early.", "We now stay open until 19:00 on weekdays."),
    ("You said naloxone ran out.", "We doubled the monthly order of naloxone kits."),
)


def _day(ctx, lo: int, hi: int) -> dt.date:
    return ctx.today - dt.timedelta(days=ctx.rng.randint(lo, hi))


def _risk_contacts(ctx, worker) -> None:
    """A few recent contacts that record what the overdose-risk prompts look for (release from
    detention, leaving treatment, using alone, mixing depressants), so the prompts and the
    high-risk list have something to show."""
    from django.utils import timezone

    from salus.services.actions import ContactServices, do_record_contact, program_tz

    rng = ctx.rng
    linked = [c for c in ctx.clients if c.site_links.exists()]
    for i, client in enumerate(rng.sample(linked, k=min(RISK_CLIENTS, len(linked)))):
        site = client.site_links.select_related("site").order_by("-last_seen").first().site
        day = ctx.today - dt.timedelta(days=rng.randint(0, 6))
        event = ctx.today - dt.timedelta(days=rng.randint(1, 24))
        services = ContactServices(
            syringes_given=rng.choice((0, 10, 20)), education=True,
            released_from_detention_on=event if i % 2 == 0 else None,
            left_treatment_on=event if i % 2 == 1 else None,
            uses_alone=rng.choice((True, False, None)), mixes_depressants=rng.choice((True, False, None)),
        )
        moment = timezone.make_aware(dt.datetime.combine(day, dt.time(11, rng.randint(0, 59))), program_tz())
        do_record_contact(worker, site=site, client=client, occurred_at=moment, services=services, source="demo")


def load(ctx) -> None:
    rng = ctx.rng
    coordinator = ctx.users.get("coordinator")
    if coordinator is not None:
        coordinator.rights_focal_person = True
        coordinator.save(update_fields=["rights_focal_person"])
        audit.record("demo", "user.grant_rights_focal_person", coordinator, detail={"synthetic": True})
    worker = ctx.users.get("worker") or coordinator
    _risk_contacts(ctx, worker)
    rungs = ladder()
    for client in ctx.clients:
        if rng.random() >= GOAL_SHARE:
            continue
        link = client.site_links.select_related("site").order_by("first_seen").first()
        if link is None:
            continue
        for rung in rng.sample(rungs, k=rng.choice((1, 1, 2, 3))):
            chosen = max(link.first_seen, _day(ctx, 30, 330))
            goal = actions.do_choose_goal(worker, client=client, site=link.site, rung=rung, chosen_on=chosen)
            day = chosen
            while True:
                day = day + dt.timedelta(days=rng.randint(10, 60))
                if day > ctx.today:
                    break
                kind = "step" if rng.random() < 0.7 else "setback"
                actions.do_record_goal_event(worker, goal, site=link.site, kind=kind, date=day)
            if rng.random() < 0.08 and chosen < ctx.today:
                actions.do_set_goal_aside(worker, goal, on=min(ctx.today, chosen + dt.timedelta(days=rng.randint(20, 90))))

    sites = list(ctx.sites.values())
    weights = [w for _t, w, _p in VIOLATIONS]
    for _ in range(RIGHTS_REPORTS):
        site = rng.choice(sites)
        vtype, _w, perpetrators = rng.choices(VIOLATIONS, weights=weights)[0]
        wants = rng.sample(ClientWants.values, k=rng.choice((1, 1, 2)))
        report = actions.do_take_rights_report(
            worker, site=site, area=site.area, occurred_on=_day(ctx, 1, 360), violation_type=vtype,
            perpetrator=rng.choice(perpetrators), client_wants=wants, details=rng.choice(DETAILS),
            consent_advocacy=rng.random() < 0.75, client=rng.choice(ctx.clients) if ctx.clients and rng.random() < 0.5 else None,
        )
        if rng.random() < 0.7:
            outcome = rng.choice([o for o in RightsReport.Outcome.values if o != "open"])
            actions.do_update_rights_response(coordinator or worker, report, response=rng.choice(RESPONSES), outcome=outcome)

    for _ in range(FEEDBACK_ITEMS):
        actions.do_submit_feedback(
            site=rng.choice(sites), submitted_on=_day(ctx, 0, 360), language=rng.choice(("en", "en", "ar", "ru")),
            satisfaction=rng.choices((5, 4, 3, 2, 1), weights=(5, 6, 3, 1, 1))[0],
            missing=rng.choice(FEEDBACK_TEXT["missing"]), went_wrong=rng.choice(FEEDBACK_TEXT["went_wrong"]),
            suggestions=rng.choice(FEEDBACK_TEXT["suggestions"]),
        )
    for site in sites[:3]:
        for you_said, we_did in YOU_SAID_WE_DID:
            actions.do_respond_to_feedback(coordinator or worker, site=site, you_said=you_said, we_did=we_did,
                                           published=True, on=_day(ctx, 5, 60))
