"""The catalogue is complete, each indicator is fully declared, and the docs follow it."""

from __future__ import annotations

from pathlib import Path

from salus.indicators import catalogue
from salus.indicators.engine import MEASURES

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = {
    "NSP_SYRINGES_PER_PWID", "NSP_COVERAGE", "NSP_REGULAR", "OST_COVERAGE", "OST_RETENTION_6M",
    "OST_MIN_DOSE", "HTS_PWID", "PREVENTION_PACKAGE", "ART_PWID", "CLIENTS_REACHED", "NEW_CLIENTS",
    "CONTACTS", "SYRINGES_DISTRIBUTED", "SYRINGE_RETURN_RATE", "CONDOMS_DISTRIBUTED",
    "NALOXONE_KITS_DISTRIBUTED", "OVERDOSE_REVERSALS", "HIV_TESTS", "HIV_POSITIVITY", "HCV_TESTS",
    "HCV_POSITIVITY", "REFERRAL_COMPLETION", "STOCKOUT_DAYS",
}


def test_it_declares_every_reference_indicator_once():
    codes = [i.code for i in catalogue.catalogue()]
    assert len(codes) == len(set(codes))
    assert set(codes) == REQUIRED


def test_every_indicator_has_its_definition_source_and_kind():
    for ind in catalogue.catalogue():
        assert ind.definition.strip(), ind.code
        assert ind.source.strip(), ind.code
        assert ind.numerator.strip(), ind.code
        assert str(ind.name).strip(), ind.code
        assert ind.kind in catalogue.KINDS, ind.code
        if ind.kind in (catalogue.PROPORTION, catalogue.RATIO, catalogue.RATE):
            assert ind.denominator or ind.population, ind.code
        assert ind.disaggregations, ind.code


def test_the_engine_computes_every_catalogued_code():
    assert set(MEASURES) == set(catalogue.CODES)


def test_coverage_bands_follow_the_technical_guide():
    assert catalogue.bands_for("OST_COVERAGE") == (0.2, 0.4)
    assert catalogue.level(0.2, (0.2, 0.4)) == "medium"  # a lower bound belongs to its band
    assert catalogue.level(0.4, (0.2, 0.4)) == "medium"
    assert catalogue.level(0.41, (0.2, 0.4)) == "high"
    assert catalogue.level(0.19, (0.2, 0.4)) == "low"
    assert catalogue.bands_for("OST_COVERAGE", {"OST_COVERAGE": [0.3, 0.5]}) == (0.3, 0.5)


def test_the_docs_list_the_catalogue_as_generated():
    page = (ROOT / "docs" / "indicators.md").read_text()
    assert catalogue.docs_block() in page, "docs/indicators.md is out of date: python -m salus.indicators.catalogue --write"
