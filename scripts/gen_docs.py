"""Write the reference pages that are generated from code: docs/config.md and docs/roles.md.

Run ``python scripts/gen_docs.py`` after changing salus.core.config.SETTINGS or
salus.core.roles; tests/core/test_docs.py fails while the pages are out of date.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def config_md() -> str:
    from salus.core.config import SETTINGS

    lines = [
        "# Program configuration",
        "",
        "A program sets these in `$SALUS_HOME/program.toml` (or the file named by",
        "`SALUS_PROGRAM_CONFIG`). Unknown keys are an error. This page is generated from",
        "`salus.core.config.SETTINGS` by `scripts/gen_docs.py`.",
        "",
        "| setting | default | meaning |",
        "|---|---|---|",
    ]
    for s in SETTINGS:
        default = s.default
        if s.name == "uic_recipe":
            default = " + ".join(f"{c.name} ({c.kind}, {c.length})" for c in s.default)
        elif isinstance(default, tuple):
            default = ", ".join(default)
        lines.append(f"| `{s.name}` | `{default}` | {s.help} |")
    lines += [
        "",
        "## The UIC recipe in TOML",
        "",
        "```toml",
        "[[uic_recipe]]",
        'name = "mother"',
        'label = "First two letters of mother\'s first name"',
        'kind = "letters"   # letters, digits or sex',
        "length = 2",
        "```",
        "",
        "Changing the recipe after clients are registered makes every returning client look new:",
        "choose it before the first contact is recorded.",
        "",
    ]
    return "\n".join(lines)


def roles_md() -> str:
    from salus.core.roles import CAPABILITIES, ORG_WIDE_ROLES, ROLE_CAPABILITIES, Role

    roles = list(Role)
    lines = [
        "# Roles and what each may do",
        "",
        "Generated from `salus.core.roles` by `scripts/gen_docs.py`. Workers, coordinators and",
        "clinicians reach the sites they belong to; "
        + ", ".join(str(r.value) for r in roles if r in ORG_WIDE_ROLES)
        + " reach the whole organisation. Analysts never see an individual record.",
        "Seeing rights-violation reports also needs the user's *rights focal person* grant.",
        "",
        "| capability | meaning | " + " | ".join(r.value for r in roles) + " |",
        "|---|---|" + "---|" * len(roles),
    ]
    for cap, meaning in CAPABILITIES.items():
        marks = " | ".join("yes" if cap in ROLE_CAPABILITIES[r] else "" for r in roles)
        lines.append(f"| `{cap}` | {meaning} | {marks} |")
    lines.append("")
    return "\n".join(lines)


PAGES = {"docs/config.md": config_md, "docs/roles.md": roles_md}


def main() -> int:
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salus.test_settings")
    import django

    django.setup()
    for rel, make in PAGES.items():
        (ROOT / rel).write_text(make())
        print("wrote", rel)
    return 0


if __name__ == "__main__":
    sys.exit(main())
