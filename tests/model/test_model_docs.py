"""Documentation checks: the parameter table is generated and complete."""

from __future__ import annotations

import json
from pathlib import Path

from salus.model.docs import DOC_PATH, render_parameters_markdown
from salus.model.parameters import PARAMETERS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "model"


def test_parameters_md_is_up_to_date():
    assert DOC_PATH.read_text(encoding="utf-8") == render_parameters_markdown(), (
        "docs/model/parameters.md is stale: run python -m salus.model.docs"
    )


def test_every_parameter_has_unit_description_and_source():
    for p in PARAMETERS.values():
        assert p.unit and p.description and p.source, f"{p.name} needs unit, text and source"


def test_values_without_evidence_say_so():
    cited = (
        "Sordo",
        "Platt",
        "MacArthur",
        "Aspinall",
        "Cornish",
        "Merrall",
        "Walley",
        "Menzies",
        "Vickerman",
        "Mexico",
        "Santo",
        "Kenya",
        "UNAIDS",
        "GBD",
        "Optima",
    )
    for p in PARAMETERS.values():
        honest = "assumption" in p.source or "calibrated" in p.source
        assert honest or any(c in p.source for c in cited), (
            f"{p.name}: the source should cite the evidence base or say assumption/calibrated"
        )


def test_verify_flags_from_the_evidence_base_are_kept():
    for name in ("overdose_multiplier_ost_first_4_weeks", "dw_hcv_chronic", "dw_hiv_untreated"):
        assert "[verify]" in PARAMETERS[name].source, f"{name} is marked [verify] in evidence.md"


def test_model_docs_exist():
    for page in ("index.md", "parameters.md", "cli.md", "validation.md"):
        assert (DOCS / page).exists(), f"docs/model/{page} should exist"


def test_parameters_match_the_frozen_set_of_this_release():
    from salus.model.parameters import (
        PARAMETER_SET_VERSION,
        frozen_parameter_set,
        parameter_set_snapshot,
    )

    frozen = frozen_parameter_set(PARAMETER_SET_VERSION)
    assert frozen == json.loads(json.dumps(parameter_set_snapshot())), (
        "parameters.py differs from its frozen set: write a new set with "
        "'python -m salus.model.docs --freeze NEW_VERSION' and bump PARAMETER_SET_VERSION"
    )
