"""The client-chosen goal ladder: its rungs (config ``goal_ladder``) and their labels.

No rung is better than another in what the client sees: the ladder is the program's way of
naming goals, not a scale a person is measured on. The order is kept for reports only.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from salus.core.config import program_config

# Labels of the default rungs; a program may add its own codes, shown as written.
RUNG_LABELS: dict[str, object] = {
    "stay_alive": _("Stay alive"),
    "avoid_infections": _("Avoid infections"),
    "look_after_health": _("Look after my health"),
    "stability": _("Stability in housing, income or treatment"),
    "safer_use": _("Use less, or more safely"),
    "stop": _("Stop, if and when I choose"),
}


def ladder() -> tuple[str, ...]:
    return tuple(program_config().goal_ladder)


def rung_label(code: str) -> str:
    return str(RUNG_LABELS.get(code, code.replace("_", " ")))


def rung_choices() -> list[tuple[str, str]]:
    return [(code, rung_label(code)) for code in ladder()]
