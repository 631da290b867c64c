"""Files that carry indicators out of Salus: CSV, DHIS2 dataValueSets JSON and ADX XML.

Everything written here has been through small-cell suppression
(salus.indicators.suppression) with the program's threshold: no option turns it off.
"""

from __future__ import annotations


def suppressed_rows(period: str, area: str | None = None, site: str | None = None, as_of=None,
                    codes: list[str] | None = None) -> list[dict]:
    """The engine's rows for the scope, small-cell suppressed with the program's threshold,
    against the other periods of the year too (salus.indicators.release)."""
    from salus.indicators.release import suppressed_indicators

    return suppressed_indicators(period, area=area, site=site, as_of=as_of, codes=codes)
