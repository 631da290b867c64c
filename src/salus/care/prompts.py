"""Overdose-risk prompts for one client: facts from the records, rules from salus.care.rules."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from salus.care import rules
from salus.core import access
from salus.core.config import program_config


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
