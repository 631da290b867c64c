"""Program configuration: the choices a harm reduction program makes, declared as data.

Every setting is declared once in ``SETTINGS`` with its default and help text; docs/config.md
is checked against this list by a test. A program overrides them in ``$SALUS_HOME/program.toml``
(or the file named by ``SALUS_PROGRAM_CONFIG``), e.g.::

    suppression_threshold = 5
    defined_package = ["syringes", "condoms", "naloxone"]
    naloxone_recent_months = 6

Unknown keys are an error, so a typo is not silently ignored.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings

from salus.clients.uic import DEFAULT_RECIPE, Component


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("program_name", "Harm reduction program", "Name shown on reports and screens."),
    Setting("synthetic", False, "True when the database holds synthetic demo data; every screen and report then says so."),
    Setting("timezone", "UTC", "The program's time zone: periods, census dates and 'today' are counted in it."),
    Setting("uic_recipe", DEFAULT_RECIPE, "The components of the unique identifier code (see docs/config.md for the TOML form)."),
    Setting("suppression_threshold", 5, "Counts from 1 to this value minus one are suppressed in anything that leaves the system (default 5: counts 1-4)."),
    Setting("suppression_audit_limit", None, "The most site x month x sex x age cells of a count hidden on their sites' pages for the audit of all pages together (docs/indicators.md, small-cell suppression, rule 8) to take that count; a count past it hides instead a box of cells around each of its small cells and hidden place totals (rule 9), so that none of its hidden cells can be worked out from the year's pages (on the 20-site benchmark program at 1,600, before rule 9, 66 hidden counts from 1 to 4 and 655 larger ones could be). None: 1,600. Higher lets the audit take more counts of larger programs, at more time per page: 2,400 takes every count of that 20-site program, at 45 to 49 s for a page counted afresh (20 s at 1,600). Lower gives faster pages and hides a few more cells: at 400 that program's page takes about 5 s and its year hides 8 % more cells, at 0 (boxes only) about 3.5 s and 11 % more."),
    Setting("defined_package", ("syringes", "condoms"), "Services that make up the defined prevention package (PREVENTION_PACKAGE). Any of: syringes, condoms, naloxone, education, hiv_test, hcv_test."),
    Setting("coverage_bands", None, "Overrides of the coverage bands per indicator code, e.g. {OST_COVERAGE = [0.2, 0.4]}; default the Technical Guide bands."),
    Setting("referral_follow_up_days", 14, "A referral still 'made' after this many days is listed for follow-up."),
    Setting("naloxone_recent_months", 6, "A client given no naloxone kit in this many months is prompted as having none in hand."),
    Setting("retention_years", 10, "Individual records older than this many years may be purged or reduced to aggregates."),
    Setting("syringe_commodity", "syringe", "Stock commodity that syringes given in a contact are taken from."),
    Setting("western_digits_for", (), "Languages shown with Western digits although their locale has its own (e.g. [\"ar\"] in the Maghreb); by default Farsi uses Persian and Arabic Eastern Arabic digits."),
    Setting("dhis2_mapping", "dhis2-mapping.toml", "The DHIS2 mapping file (docs/exports.md) of the web app's DHIS2 JSON and ADX downloads: a path relative to SALUS_HOME, or absolute; while it does not exist, the web app offers CSV downloads only."),
    Setting("goal_ladder", ("stay_alive", "avoid_infections", "look_after_health", "stability", "safer_use", "stop"), "The rungs of the client-chosen goal ladder, in order."),
)


@dataclass(frozen=True)
class ProgramConfig:
    program_name: str = "Harm reduction program"
    synthetic: bool = False
    timezone: str = "UTC"
    uic_recipe: tuple[Component, ...] = DEFAULT_RECIPE
    suppression_threshold: int = 5
    suppression_audit_limit: int | None = None
    defined_package: tuple[str, ...] = ("syringes", "condoms")
    coverage_bands: dict | None = None
    referral_follow_up_days: int = 14
    naloxone_recent_months: int = 6
    retention_years: int = 10
    syringe_commodity: str = "syringe"
    western_digits_for: tuple[str, ...] = ()
    dhis2_mapping: str = "dhis2-mapping.toml"
    goal_ladder: tuple[str, ...] = field(
        default=("stay_alive", "avoid_infections", "look_after_health", "stability", "safer_use", "stop")
    )


class ConfigError(ValueError):
    pass


def config_path() -> Path:
    return Path(os.environ.get("SALUS_PROGRAM_CONFIG") or Path(settings.SALUS_HOME) / "program.toml")


def _recipe_from_toml(items: list[dict]) -> tuple[Component, ...]:
    comps = []
    for item in items:
        try:
            comps.append(Component(item["name"], item.get("label", item["name"]), item["kind"], int(item["length"])))
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"uic_recipe: each component needs name, kind and length ({exc})") from exc
        if comps[-1].kind not in ("letters", "digits", "sex"):
            raise ConfigError(f"uic_recipe: unknown kind {comps[-1].kind!r}")
    return tuple(comps)


def load_config(path: Path | None = None) -> ProgramConfig:
    """Read the program configuration file; defaults where it is absent."""
    path = path or config_path()
    cfg = ProgramConfig()
    if not path.exists():
        return cfg
    with path.open("rb") as f:
        data = tomllib.load(f)
    known = {s.name for s in SETTINGS}
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))}")
    if "uic_recipe" in data:
        data["uic_recipe"] = _recipe_from_toml(data["uic_recipe"])
    for k in ("defined_package", "goal_ladder", "western_digits_for"):
        if k in data:
            data[k] = tuple(data[k])
    limit = data.get("suppression_audit_limit")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise ConfigError(f"{path}: suppression_audit_limit must be a whole number from 0")
    return replace(cfg, **data)


@lru_cache(maxsize=1)
def program_config() -> ProgramConfig:
    return load_config()


def reset_cache() -> None:
    program_config.cache_clear()
