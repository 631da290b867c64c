"""Aggregates of person-centred care: prompts and naloxone offers, goals, rights violations.

Counts are shown suppressed (``suppress_each``, ``suppress_partitions``) unless the caller may
see small cells inside the system (``indicators.unsuppressed``). Rights-violation counts are
always suppressed: they go into advocacy reports that leave the program.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from typing import Any

from django.db.models import Q

from salus.care.models import Goal, GoalEvent, PromptCheck, RightsReport
from salus.indicators.periods import Period, parse_period


def current_quarter(today: dt.date) -> Period:
    return parse_period(f"{today.year}Q{(today.month - 1) // 3 + 1}")


def suppress_each(counts: dict, threshold: int) -> dict:
    """Counts from 1 to ``threshold - 1`` become None (shown as "fewer than N").

    For counts that do not add up to a shown total (a person may hold several goals, several
    prompts may apply at once), hiding each small count is enough: no sum gives one away.
    """
    return {k: (None if 0 < v < threshold else v) for k, v in counts.items()}


def suppress_partitions(total: int, partitions: dict[str, dict], threshold: int) -> tuple[int | None, dict]:
    """Suppress a total and its breakdowns (each breakdown adds up to the total), with the
    indicator engine's small-cell rules (salus.indicators.suppression.suppress_groups):
    small cells, then every cell that would let one be worked out from the others.

    Returns (total or None, {dimension: {key: count or None}}).
    """
    from salus.indicators.suppression import suppress_groups

    cells: list[dict[str, Any]] = [{"code": "care", "disaggregation": {}, "value": total, "person_based": True}]
    for dim, counts in partitions.items():
        for key, value in counts.items():
            cells.append({"code": "care", "disaggregation": {dim: str(key)}, "value": value, "person_based": True})
    out = suppress_groups(cells, threshold)
    result: dict = {dim: {} for dim in partitions}
    for cell, src in zip(out[1:], cells[1:], strict=True):
        (dim, key), = src["disaggregation"].items()
        original = next(k for k in partitions[dim] if str(k) == key)
        result[dim][original] = cell["value"]
    return out[0]["value"], result


def _site_q(site_ids, field: str = "site_id") -> Q:
    return Q() if site_ids is None else Q(**{f"{field}__in": site_ids})


def prompt_summary(site_ids, period: Period) -> dict:
    """Prompts shown, naloxone offered and accepted, and how often each rule applied, in
    ``period`` at ``site_ids`` (None: every site)."""
    rows = PromptCheck.objects.filter(_site_q(site_ids), shown_on__range=(period.start, period.end))
    by_rule: Counter = Counter()
    shown = offered = accepted = 0
    for codes, was_offered, was_accepted in rows.values_list("rule_codes", "naloxone_offered", "naloxone_accepted"):
        shown += 1
        offered += bool(was_offered)
        accepted += bool(was_accepted)
        by_rule.update(codes)
    return {"shown": shown, "offered": offered, "accepted": accepted, "by_rule": dict(by_rule)}


def goal_summary(site_ids, period: Period, ladder: tuple[str, ...]) -> dict:
    """Clients holding a goal during ``period`` and clients who made a step in it, overall and
    by rung. A client counts once per rung and once overall."""
    held = Goal.objects.filter(
        _site_q(site_ids), chosen_on__lte=period.end
    ).filter(Q(ended_on__isnull=True) | Q(ended_on__gte=period.start))
    steps = GoalEvent.objects.filter(
        _site_q(site_ids), kind=GoalEvent.Kind.STEP, date__range=(period.start, period.end)
    )
    holding: dict[str, set[uuid.UUID]] = {r: set() for r in ladder}
    stepping: dict[str, set[uuid.UUID]] = {r: set() for r in ladder}
    for client_id, rung in held.values_list("client_id", "rung"):
        holding.setdefault(rung, set()).add(client_id)
    for client_id, rung in steps.values_list("goal__client_id", "goal__rung"):
        stepping.setdefault(rung, set()).add(client_id)
    return {
        "clients_with_goals": len(set().union(*holding.values())),
        "clients_with_step": len(set().union(*stepping.values())),
        "by_rung": [(r, len(holding.get(r, ())), len(stepping.get(r, ()))) for r in holding],
    }


def rights_counts(site_ids, start: dt.date, end: dt.date) -> dict[str, Counter]:
    """Counts of reports the client consented to use in advocacy, by type, perpetrator, area
    and quarter of occurrence. Reports without that consent are never counted here."""
    qs = RightsReport.objects.filter(
        _site_q(site_ids), consent_advocacy=True, occurred_on__range=(start, end)
    ).select_related("area")
    out: dict[str, Counter] = {"type": Counter(), "perpetrator": Counter(), "area": Counter(), "quarter": Counter()}
    for r in qs:
        out["type"][r.violation_type] += 1
        out["perpetrator"][r.perpetrator] += 1
        out["area"][r.area.name] += 1
        out["quarter"][f"{r.occurred_on.year}Q{(r.occurred_on.month - 1) // 3 + 1}"] += 1
    return out


def care_summary(user, period: Period) -> dict:
    """What the care summary shows ``user`` for ``period`` at their sites: prompts shown,
    naloxone offered and accepted, how often each rule applied, people holding goals and making
    steps (overall and by rung). Small counts are None unless the user holds
    ``indicators.unsuppressed``."""
    from salus.care import goals, rules
    from salus.core import access
    from salus.core.config import program_config

    ids = access.site_ids(user)
    threshold = program_config().suppression_threshold
    raw_prompts = prompt_summary(ids, period)
    raw_goals = goal_summary(ids, period, goals.ladder())
    unsuppressed = access.can(user, "indicators.unsuppressed")

    def cells(counts: dict) -> dict:
        return counts if unsuppressed else suppress_each(counts, threshold)

    prompts = {k: raw_prompts[k] for k in ("shown", "offered", "accepted")}
    by_rule = {r.code: raw_prompts["by_rule"].get(r.code, 0) for r in rules.RULES}
    if not unsuppressed:
        prompts, by_rule = _prompts_suppressed_over_the_year(ids, period, threshold)
    held = cells({r: h for r, h, _s in raw_goals["by_rung"]})
    stepped = cells({r: s for r, _h, s in raw_goals["by_rung"]})
    return {
        "period": period.label, "threshold": threshold, "suppressed": not unsuppressed,
        "prompts": prompts,
        "by_rule": by_rule,
        "goals": cells({"with": raw_goals["clients_with_goals"], "step": raw_goals["clients_with_step"]}),
        "by_rung": [{"rung": r, "holding": held[r], "stepped": stepped[r]} for r, _h, _s in raw_goals["by_rung"]],
    }


def _prompts_suppressed_over_the_year(site_ids, period: Period, threshold: int) -> tuple[dict, dict]:
    """The prompt counts of ``period`` (shown, offered, accepted; per rule), small ones hidden.

    They count events by day, so a month's count is its quarter's minus the other two months':
    hiding a small month alone would not do when the summary is read for a quarter too. Each
    count is suppressed for the whole calendar year at once, its months, quarters and the year
    linked by their sums (salus.indicators.suppression), and the period shows its part.
    """
    from salus.care import rules

    cells = []
    for month in _months_of(period):
        summary = prompt_summary(site_ids, month)
        counts = {("prompts", k): summary[k] for k in ("shown", "offered", "accepted")}
        counts |= {("by_rule", r.code): summary["by_rule"].get(r.code, 0) for r in rules.RULES}
        cells += [_year_cell("care-prompts", month, {"count": f"{group}:{key}"}, n) for (group, key), n in counts.items()]
    prompts: dict = {}
    by_rule: dict = {}
    for cell in _suppressed_over_the_year(cells, threshold):
        if cell["period"] == period.label:
            group, key = cell["disaggregation"]["count"].split(":", 1)
            (prompts if group == "prompts" else by_rule)[key] = cell["value"]
    return prompts, by_rule


def advocacy_report(user, period: Period) -> dict:
    """The rights advocacy counts for ``period`` at the user's sites, always suppressed:
    {"total": n or None, "type"|"perpetrator"|"area"|"quarter": {key: n or None}}.

    Reports are counted by the date they happened, so a month's counts are the quarter's
    minus the other months': a month hidden in one report would be given away by others. The
    counts are suppressed once for the whole calendar year, its months, quarters and the year
    linked by their sums (salus.indicators.suppression), and each report shows its period's
    part of that: every report of the year can be read beside every other.
    """
    from salus.core import access
    from salus.core.config import program_config

    cells = []
    for month in _months_of(period):
        counts = rights_counts(access.site_ids(user), month.start, month.end)
        cells.append(_year_cell("care-rights", month, {}, sum(counts["type"].values())))
        cells += [_year_cell("care-rights", month, {dim: str(key)}, n)
                  for dim, values in counts.items() for key, n in values.items()]
    result: dict[str, Any] = {"total": None, "type": {}, "perpetrator": {}, "area": {}, "quarter": {}}
    for cell in _suppressed_over_the_year(cells, program_config().suppression_threshold):
        if cell["period"] != period.label:
            continue
        if not cell["disaggregation"]:
            result["total"] = cell["value"]
        else:
            (dim, key), = cell["disaggregation"].items()
            result[dim][key] = cell["value"]
    return result


def _months_of(period: Period) -> list[Period]:
    """The twelve months of the calendar year ``period`` lies in."""
    return [parse_period(f"{period.start.year}-{m:02d}") for m in range(1, 13)]


def _year_cell(code: str, month: Period, disaggregation: dict, value: int) -> dict[str, Any]:
    """A month's count as a cell of a table that adds up over time."""
    return {"code": code, "period": month.label, "disaggregation": disaggregation, "value": value,
            "person_based": True, "adds_over_time": True}


def _suppressed_over_the_year(month_cells: list[dict], threshold: int) -> list[dict]:
    """``month_cells`` of one calendar year, with each quarter and the year as their sums,
    suppressed as one table linked by those sums (salus.indicators.suppression)."""
    from salus.indicators.suppression import suppress_groups, with_quarters_and_year

    return suppress_groups(with_quarters_and_year(month_cells, ("value",)), threshold)
