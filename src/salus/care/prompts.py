"""Overdose-risk prompts for one client: facts from the records, rules from salus.care.rules."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Q
from django.utils import timezone

from salus.care import rules
from salus.core import access
from salus.core.config import program_config

if TYPE_CHECKING:
    from salus.clients.models import Client


def program_today() -> dt.date:
    """Today's date in the program's time zone."""
    from salus.services.actions import local_date

    return local_date(timezone.now())


def facts_for(client, user, today: dt.date) -> rules.RiskFacts:
    """The client's risk facts from the records ``user`` may see, up to ``today``.

    Reads at most a year and a bit back: no rule looks further.
    """
    horizon = today - dt.timedelta(days=max(rules.OVERDOSE_LOOKBACK_DAYS, rules.ANSWER_VALID_DAYS, 31 * 24) + 1)
    f = rules.RiskFacts(substances=list(client.substances or []))
    contacts = (
        access.contacts(user)
        .filter(client=client, date__gte=horizon, date__lte=today)
        .order_by("-date")
        .values_list(
            "date", "released_from_detention_on", "left_treatment_on", "overdose_since_last_contact",
            "uses_alone", "mixes_depressants", "naloxone_kits_given",
        )
    )
    for day, released, left, overdosed, alone, mixes, kits in contacts:
        if released:
            f.released_on.append(released)
        if left:
            f.left_treatment_on.append(left)
        if overdosed:
            f.overdose_on.append(day)
        if alone is not None:
            f.uses_alone.append((day, alone))
        if mixes is not None:
            f.mixes_depressants.append((day, mixes))
        if kits:
            f.naloxone_given_on.append(day)
    for start, end, reason in access.ost_episodes(user).filter(client=client).values_list(
        "start_date", "end_date", "end_reason"
    ):
        f.ost_started_on.append(start)
        if end is not None and reason in rules.LEAVING_REASONS:
            f.left_treatment_on.append(end)
    for day, involvement, used in access.overdoses(user).filter(client=client, date__gte=horizon).values_list(
        "date", "involvement", "naloxone_kits_used"
    ):
        if involvement == "experienced":
            f.overdose_on.append(day)
        if used:
            f.naloxone_used_on.append(day)
    return f


def risk_prompts(client, user, today: dt.date | None = None) -> list[rules.Prompt]:
    """The overdose-risk prompts for ``client`` as ``user`` may see them, on ``today``
    (default: today in the program's time zone). Empty without ``care.view``."""
    if not access.can(user, "care.view"):
        return []
    today = today or program_today()
    return rules.evaluate(facts_for(client, user, today), today, program_config())


def care_site(user, client):
    """The site a care record about ``client`` is written at: the user's first site where the
    client is served (for organisation-wide roles, the client's first site); None if none."""
    ids = access.site_ids(user)
    for link in client.site_links.select_related("site").order_by("first_seen"):
        if ids is None or link.site_id in ids:
            return link.site
    return None


def prompts_noted(client, user, today: dt.date | None = None):
    """The prompts for ``client`` today, noted as shown to ``user`` (one PromptCheck per client,
    user and day). Returns (prompts, check); check is None when no prompt applies."""
    from salus.care.actions import do_note_prompts_shown

    today = today or program_today()
    prompts = risk_prompts(client, user, today)
    site = care_site(user, client)
    if not prompts or site is None:
        return prompts, None
    check = do_note_prompts_shown(user, client=client, site=site, rule_codes=[p.code for p in prompts], shown_on=today)
    return prompts, check


# The rules whose window is time-limited: the high-risk list shows people inside one of them.
WINDOW_RULES = frozenset({"released", "left_treatment", "started_ost"})


class HighRiskRow(TypedDict):
    client: Client
    prompts: list[rules.Prompt]
    urgent: bool
    sites: list[str]


def high_risk_rows(user, today: dt.date) -> list[HighRiskRow]:
    """Clients at the user's sites inside a time-limited high-risk window today (released,
    left treatment or started OST in the last 4 weeks), with every prompt that applies; the
    most urgent first."""
    since = today - dt.timedelta(days=rules.WINDOW_DAYS - 1)
    # A window opened by an event recorded at a contact up to 4 weeks after it happened.
    contact_clients = access.contacts(user).filter(
        date__gte=since - dt.timedelta(days=rules.WINDOW_DAYS), date__lte=today
    ).filter(Q(released_from_detention_on__gte=since) | Q(left_treatment_on__gte=since)).values_list("client_id", flat=True)
    ost_clients = access.ost_episodes(user).filter(
        Q(start_date__gte=since) | Q(end_date__gte=since)
    ).values_list("client_id", flat=True)
    ids = set(contact_clients) | set(ost_clients)
    cfg = program_config()
    visible_sites = access.site_ids(user)
    rows: list[HighRiskRow] = []
    for client in access.clients(user).filter(id__in=ids).prefetch_related("site_links__site"):
        prompts = rules.evaluate(facts_for(client, user, today), today, cfg)
        if not any(p.code in WINDOW_RULES for p in prompts):
            continue
        rows.append({
            "client": client, "prompts": prompts, "urgent": any(p.urgent for p in prompts),
            "sites": sorted(link.site.code for link in client.site_links.all()
                            if visible_sites is None or link.site_id in visible_sites),
        })
    rows.sort(key=lambda r: (not r["urgent"], -len(r["prompts"]), r["client"].reference))
    return rows
