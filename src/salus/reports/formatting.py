"""Numbers as a reader sees them: rounded for display only, localised, percentages for proportions.

The engine keeps full precision (docs/indicators.md); rounding happens here and nowhere else.
"""

from __future__ import annotations

from django.utils import formats
from django.utils.translation import gettext as _

PROPORTION = "proportion"


def format_value(value: float | int | None, kind: str) -> str:
    """``value`` for display: proportions (fractions 0-1) as a percentage with one decimal,
    counts as whole numbers with grouping, ratios and rates with one decimal.

    Returns "" for None: the caller shows the reason (a note or "suppressed") instead.
    """
    if value is None:
        return ""
    if kind == PROPORTION:
        return format_percent(value)
    if kind == "count":
        return formats.number_format(round(value), 0, use_l10n=True, force_grouping=True)
    return formats.number_format(round(value, 1), 1, use_l10n=True, force_grouping=True)


def format_percent(fraction: float, decimals: int = 1) -> str:
    """A fraction (0.423) as a percentage ("42.3%"); translators may move the sign."""
    number = formats.number_format(round(fraction * 100, decimals), decimals, use_l10n=True)
    return _("%(number)s%%") % {"number": number}


def format_range(low: float | None, high: float | None, kind: str) -> str:
    """The values at the two ends of the PSE range, lowest first ("31.0%–44.2%"), or ""."""
    if low is None or high is None:
        return ""
    lo, hi = sorted((low, high))
    return _("%(low)s–%(high)s") % {"low": format_value(lo, kind), "high": format_value(hi, kind)}
