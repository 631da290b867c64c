"""Overdose-risk prompts, declared as data and registered in one place (``RULES``).

Each :class:`RiskRule` names a situation that the evidence ties to overdose death, how to tell
it from the client's records (``applies``), what to say to the worker in plain words and what
to offer. docs/care/risk-prompts.md gives the evidence behind each one.

To add a rule: write its condition as a function of (:class:`RiskFacts`, today, config) that
returns None or the placeholders of its message, add a :class:`RiskRule` to ``RULES``, a test
in tests/care/test_rules.py and a section in docs/care/risk-prompts.md.

Facts come only from records the worker may see (salus.core.access): a history kept at another
site stays there, so a prompt may miss a kit given elsewhere; offering one more kit is harmless.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from salus.core.config import ProgramConfig

# "In the last 4 weeks": day 0 (today) to day 27.
WINDOW_DAYS = 28
# Weeks 1-2 after release or after leaving treatment carry the highest risk.
FIRST_WEEKS_DAYS = 14
OVERDOSE_LOOKBACK_DAYS = 365
# A "uses alone" or "mixes" answer older than this is not acted on: ask again.
ANSWER_VALID_DAYS = 365

OPIOIDS = frozenset({"heroin", "opium", "methadone", "buprenorphine", "tramadol", "fentanyl"})
DEPRESSANTS = frozenset({"benzodiazepines", "alcohol"})

# OST end reasons after which the person is out of treatment in the community. A transfer
# continues treatment elsewhere; detention and death are not a return to the community.
LEAVING_REASONS = frozenset({"completed", "voluntary", "discharged", "lost", "other", ""})


@dataclass
class RiskFacts:
    """What the records say about one client, as far as the worker may see.

    Dates are program-local dates. Lists hold every relevant date, newest first.
    """

    released_on: list[dt.date] = field(default_factory=list)
    left_treatment_on: list[dt.date] = field(default_factory=list)
    ost_started_on: list[dt.date] = field(default_factory=list)
    overdose_on: list[dt.date] = field(default_factory=list)
    # (date of the answer, answer), newest first; only contacts where the question was asked.
    uses_alone: list[tuple[dt.date, bool]] = field(default_factory=list)
    mixes_depressants: list[tuple[dt.date, bool]] = field(default_factory=list)
    substances: list[str] = field(default_factory=list)
    naloxone_given_on: list[dt.date] = field(default_factory=list)
    naloxone_used_on: list[dt.date] = field(default_factory=list)


@dataclass(frozen=True)
class RiskRule:
    code: str
    # A few words, shown as the prompt's heading.
    title: object
    # Why it matters, in plain words; may use the placeholders ``applies`` returns.
    message: object
    # What to offer.
    offer: object
    # Short citations (author year); full references in docs/care/risk-prompts.md.
    evidence: str
    applies: Callable[[RiskFacts, dt.date, ProgramConfig], dict | None]


@dataclass(frozen=True)
class Prompt:
    """A rule that applies today, with its message filled in."""

    rule: RiskRule
    message: str
    # True in the most dangerous part of the window (e.g. weeks 1-2 after release).
    urgent: bool = False

    @property
    def code(self) -> str:
        return self.rule.code


def _latest_within(dates: list[dt.date], today: dt.date, days: int) -> dt.date | None:
    """The newest date in ``dates`` that is between ``days - 1`` days ago and today."""
    recent = [d for d in dates if d <= today and (today - d).days < days]
    return max(recent) if recent else None


def _window(days_ago: int) -> dict:
    return {"days": days_ago, "weeks": days_ago // 7 + 1, "urgent": days_ago < FIRST_WEEKS_DAYS}


def released_recently(f: RiskFacts, today: dt.date, cfg: ProgramConfig) -> dict | None:
    day = _latest_within(f.released_on, today, WINDOW_DAYS)
    return None if day is None else _window((today - day).days)


def left_treatment_recently(f: RiskFacts, today: dt.date, cfg: ProgramConfig) -> dict | None:
    day = _latest_within(f.left_treatment_on, today, WINDOW_DAYS)
    if day is None:
        return None
    # Back on OST since leaving: the "started OST" rule speaks instead.
    if any(day < s <= today for s in f.ost_started_on):
        return None
    return _window((today - day).days)


def started_ost_recently(f: RiskFacts, today: dt.date, cfg: ProgramConfig) -> dict | None:
    day = _latest_within(f.ost_started_on, today, WINDOW_DAYS)
    return None if day is None else _window((today - day).days)


def overdosed_this_year(f: RiskFacts, today: dt.date, cfg: ProgramConfig) -> dict | None:
    day = _latest_within(f.overdose_on, today, OVERDOSE_LOOKBACK_DAYS)
    return None if day is None else {"date": day, "urgent": (today - day).days < WINDOW_DAYS}


def _latest_answer(answers: list[tuple[dt.date, bool]], today: dt.date) -> bool | None:
    valid = [(d, a) for d, a in answers if d <= today and (today - d).days < ANSWER_VALID_DAYS]
    return max(valid)[1] if valid else None


def uses_alone(f: RiskFacts, today: dt.date, cfg: ProgramConfig) -> dict | None:
    return {} if _latest_answer(f.uses_alone, today) else None


def mixes_depressants(f: RiskFacts, today: dt.date, cfg: ProgramConfig) -> dict | None:
    answer = _latest_answer(f.mixes_depressants, today)
    if answer:
        return {}
    # Not asked (or asked long ago): the substances on record may still say so.
    if answer is None and OPIOIDS & set(f.substances) and DEPRESSANTS & set(f.substances):
        return {}
    return None


def _months_before(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.month - 1 - months, 12)
    year, month = day.year + y, m + 1
    # Clamp the day for shorter months (31 March - 1 month = 28/29 February).
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def no_naloxone_recently(f: RiskFacts, today: dt.date, cfg: ProgramConfig) -> dict | None:
    since = _months_before(today, cfg.naloxone_recent_months)
    if any(since < d <= today for d in f.naloxone_given_on):
        return None
    return {"months": cfg.naloxone_recent_months}


def naloxone_used_since_given(f: RiskFacts, today: dt.date, cfg: ProgramConfig) -> dict | None:
    since = _months_before(today, cfg.naloxone_recent_months)
    given = [d for d in f.naloxone_given_on if since < d <= today]
    if not given:
        # The "none given recently" rule speaks instead.
        return None
    last_given = max(given)
    return {} if any(last_given <= u <= today for u in f.naloxone_used_on) else None


RULES: tuple[RiskRule, ...] = (
    RiskRule(
        code="released",
        title=_("Released from prison or detention in the last 4 weeks"),
        message=_(
            "Released %(days)s days ago. After time inside, the body's tolerance to opioids is "
            "low: the same dose as before can stop breathing. The first two weeks are the most "
            "dangerous."
        ),
        offer=_(
            "Offer naloxone and show how to use it; talk about starting with a much smaller "
            "amount and not using alone; offer OST (it lowers the risk of dying after release)."
        ),
        evidence="Merrall 2010; Degenhardt 2014; Bird 2016",
        applies=released_recently,
    ),
    RiskRule(
        code="left_treatment",
        title=_("Left OST, detox or a time without using in the last 4 weeks"),
        message=_(
            "Left %(days)s days ago. Tolerance drops quickly: the weeks right after leaving "
            "treatment carry many times the usual risk of dying."
        ),
        offer=_(
            "Offer naloxone; talk about smaller amounts and not using alone; offer a way back "
            "to OST if the person wants it."
        ),
        evidence="Cornish 2010; Cousins 2016; Sordo 2017",
        applies=left_treatment_recently,
    ),
    RiskRule(
        code="started_ost",
        title=_("Started OST in the last 4 weeks"),
        message=_(
            "Started %(days)s days ago. While the dose is being found, using on top of OST, "
            "especially with benzodiazepines or alcohol, raises the risk of overdose."
        ),
        offer=_("Offer naloxone; talk about the risk of using on top of a new dose."),
        evidence="Cornish 2010; Sordo 2017; Santo 2021",
        applies=started_ost_recently,
    ),
    RiskRule(
        code="overdose",
        title=_("Had an overdose in the last 12 months"),
        message=_(
            "An overdose is recorded on %(date)s. Someone who has survived an overdose is more "
            "likely to have another one, which may be fatal."
        ),
        offer=_("Offer naloxone for the person and for the people around them; ask what happened and what might help."),
        evidence="Caudarella 2016; Stoové 2009",
        applies=overdosed_this_year,
    ),
    RiskRule(
        code="uses_alone",
        title=_("Often uses alone"),
        message=_("When nobody is there, nobody can give naloxone or call for help."),
        offer=_(
            "Talk about ways not to use alone (a friend nearby, a phone check-in, a supervised "
            "place) and offer naloxone for friends too."
        ),
        evidence="Darke 2003",
        applies=uses_alone,
    ),
    RiskRule(
        code="mixes_depressants",
        title=_("Mixes opioids with benzodiazepines, alcohol or other depressants"),
        message=_("Together these slow breathing much more than either alone."),
        offer=_("Offer naloxone; talk about spacing them out, using less of each, and not using alone."),
        evidence="Darke 2003; Jones 2015",
        applies=mixes_depressants,
    ),
    RiskRule(
        code="no_naloxone",
        title=_("No naloxone kit given recently"),
        message=_("No naloxone kit is recorded in the last %(months)s months: the person may have none in hand."),
        offer=_("Offer a naloxone kit and a short refresher on how to use it."),
        evidence="Walley 2013; McDonald 2016",
        applies=no_naloxone_recently,
    ),
    RiskRule(
        code="naloxone_used",
        title=_("A naloxone kit was used since the last one given"),
        message=_("The last kit was used: the person may have none left."),
        offer=_("Offer a new naloxone kit; ask how the last overdose went and whether help was called."),
        evidence="Walley 2013; McDonald 2016",
        applies=naloxone_used_since_given,
    ),
)

RULES_BY_CODE: dict[str, RiskRule] = {r.code: r for r in RULES}


def evaluate(facts: RiskFacts, today: dt.date, cfg: ProgramConfig) -> list[Prompt]:
    """The prompts that apply to ``facts`` on ``today``, in the order of ``RULES``."""
    prompts = []
    for rule in RULES:
        params = rule.applies(facts, today, cfg)
        if params is None:
            continue
        urgent = bool(params.pop("urgent", False))
        message = str(rule.message) % params if params else str(rule.message)
        prompts.append(Prompt(rule=rule, message=message, urgent=urgent))
    return prompts
