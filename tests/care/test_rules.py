"""Every overdose-risk rule, one by one, on explicit dates."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salus.care import rules
from salus.care.rules import RiskFacts
from salus.core.config import ProgramConfig

TODAY = dt.date(2026, 6, 15)
CFG = ProgramConfig(naloxone_recent_months=6)
# A kit given last week: keeps the naloxone rule quiet in tests about other rules.
KIT = [TODAY - dt.timedelta(days=7)]


def days_ago(n: int) -> dt.date:
    return TODAY - dt.timedelta(days=n)


def codes(facts: RiskFacts, today: dt.date = TODAY, cfg: ProgramConfig = CFG) -> list[str]:
    return [p.code for p in rules.evaluate(facts, today, cfg)]


def test_it_registers_each_rule_once_with_evidence_and_translatable_text():
    assert len(rules.RULES_BY_CODE) == len(rules.RULES)
    for rule in rules.RULES:
        assert rule.evidence and rule.title and rule.message and rule.offer
        # gettext_lazy proxies, not plain strings: the text is translatable.
        assert not isinstance(rule.title, str) and not isinstance(rule.offer, str)


def test_it_prompts_nothing_for_a_person_with_a_recent_kit_and_no_risk_on_record():
    assert codes(RiskFacts(naloxone_given_on=KIT)) == []


@pytest.mark.parametrize(("ago", "fires", "urgent"), [
    (0, True, True), (13, True, True), (14, True, False), (27, True, False), (28, False, False), (-1, False, False),
])
def test_it_prompts_release_from_detention_within_four_weeks(ago, fires, urgent):
    prompts = rules.evaluate(RiskFacts(released_on=[days_ago(ago)], naloxone_given_on=KIT), TODAY, CFG)
    assert [p.code for p in prompts] == (["released"] if fires else [])
    if fires:
        assert prompts[0].urgent is urgent
        assert str(ago) in prompts[0].message


def test_it_uses_the_latest_release():
    facts = RiskFacts(released_on=[days_ago(200), days_ago(3)], naloxone_given_on=KIT)
    assert rules.evaluate(facts, TODAY, CFG)[0].message.startswith("Released 3 days ago")


@pytest.mark.parametrize(("ago", "fires"), [(0, True), (27, True), (28, False)])
def test_it_prompts_leaving_treatment_within_four_weeks(ago, fires):
    assert codes(RiskFacts(left_treatment_on=[days_ago(ago)], naloxone_given_on=KIT)) == (["left_treatment"] if fires else [])


def test_it_does_not_prompt_leaving_treatment_when_back_on_ost_since():
    facts = RiskFacts(left_treatment_on=[days_ago(20)], ost_started_on=[days_ago(5)], naloxone_given_on=KIT)
    assert codes(facts) == ["started_ost"]


@pytest.mark.parametrize(("ago", "fires", "urgent"), [(0, True, True), (10, True, True), (20, True, False), (28, False, False)])
def test_it_prompts_starting_ost_within_four_weeks(ago, fires, urgent):
    prompts = rules.evaluate(RiskFacts(ost_started_on=[days_ago(ago)], naloxone_given_on=KIT), TODAY, CFG)
    assert [p.code for p in prompts] == (["started_ost"] if fires else [])
    if fires:
        assert prompts[0].urgent is urgent


@pytest.mark.parametrize(("ago", "fires"), [(1, True), (364, True), (365, False)])
def test_it_prompts_a_non_fatal_overdose_in_the_last_twelve_months(ago, fires):
    assert codes(RiskFacts(overdose_on=[days_ago(ago)], naloxone_given_on=KIT)) == (["overdose"] if fires else [])


@pytest.mark.parametrize(("answers", "fires"), [
    ([(days_ago(3), True)], True),
    ([(days_ago(3), False)], False),
    # The newest answer counts.
    ([(days_ago(30), True), (days_ago(3), False)], False),
    ([(days_ago(30), False), (days_ago(3), True)], True),
    # An answer more than a year old is not acted on.
    ([(days_ago(400), True)], False),
    ([], False),
])
def test_it_prompts_using_alone_on_the_latest_answer(answers, fires):
    assert codes(RiskFacts(uses_alone=answers, naloxone_given_on=KIT)) == (["uses_alone"] if fires else [])


@pytest.mark.parametrize(("answers", "substances", "fires"), [
    ([(days_ago(3), True)], [], True),
    ([(days_ago(3), False)], ["heroin", "benzodiazepines"], False),
    ([], ["heroin", "alcohol"], True),
    ([], ["heroin"], False),
    ([], ["benzodiazepines", "alcohol"], False),
])
def test_it_prompts_mixing_opioids_with_depressants(answers, substances, fires):
    facts = RiskFacts(mixes_depressants=answers, substances=substances, naloxone_given_on=KIT)
    assert codes(facts) == (["mixes_depressants"] if fires else [])


@pytest.mark.parametrize(("given", "months", "fires"), [
    ([], 6, True),
    ([dt.date(2026, 1, 10)], 6, False),   # 5 months ago
    ([dt.date(2025, 12, 15)], 6, True),   # exactly 6 months ago: outside the window
    ([dt.date(2025, 12, 16)], 6, False),
    ([dt.date(2026, 1, 10)], 3, True),    # the window follows the configuration
])
def test_it_prompts_no_naloxone_given_recently(given, months, fires):
    cfg = ProgramConfig(naloxone_recent_months=months)
    prompts = rules.evaluate(RiskFacts(naloxone_given_on=given), TODAY, cfg)
    assert [p.code for p in prompts] == (["no_naloxone"] if fires else [])
    if fires:
        assert f"{months} months" in prompts[0].message


def test_it_prompts_a_kit_used_since_the_last_one_given():
    facts = RiskFacts(naloxone_given_on=[days_ago(30)], naloxone_used_on=[days_ago(10)])
    assert codes(facts) == ["naloxone_used"]
    facts = RiskFacts(naloxone_given_on=[days_ago(30), days_ago(5)], naloxone_used_on=[days_ago(10)])
    assert codes(facts) == []


def test_it_counts_months_back_on_short_months():
    assert rules._months_before(dt.date(2026, 3, 31), 1) == dt.date(2026, 2, 28)
    assert rules._months_before(dt.date(2026, 1, 15), 2) == dt.date(2025, 11, 15)


def test_it_lists_several_prompts_in_the_order_of_the_registry():
    facts = RiskFacts(released_on=[days_ago(2)], uses_alone=[(days_ago(2), True)], overdose_on=[days_ago(100)])
    assert codes(facts) == ["released", "overdose", "uses_alone", "no_naloxone"]


dates = st.lists(st.integers(min_value=-40, max_value=800).map(days_ago), max_size=6)


@given(released=dates, left=dates, started=dates, overdosed=dates, given_kits=dates, used=dates)
def test_it_fires_each_window_rule_exactly_when_an_event_falls_in_its_window(released, left, started, overdosed, given_kits, used):
    facts = RiskFacts(released_on=released, left_treatment_on=left, ost_started_on=started, overdose_on=overdosed,
                      naloxone_given_on=given_kits, naloxone_used_on=used)
    found = set(codes(facts))

    def within(ds, days):
        return any(0 <= (TODAY - d).days < days for d in ds)

    assert ("released" in found) == within(released, 28)
    assert ("started_ost" in found) == within(started, 28)
    assert ("overdose" in found) == within(overdosed, 365)
    # Leaving treatment is silent when OST started again after the latest leaving date.
    if "left_treatment" in found:
        assert within(left, 28)
    # The two naloxone rules never both apply.
    assert not {"no_naloxone", "naloxone_used"} <= found
