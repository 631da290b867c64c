"""Sites: ``code,name,area,kind``.

``area`` is the area's path of codes from the top (``XL/NORTH/N1``); areas on the path are
created as needed. A bare code (``N1``) names an existing area whose code is unique. A site
whose code exists already is updated (name, area, kind).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from salus.core.actions import AreaPathError, do_ensure_area_path, do_save_site, find_area
from salus.core.models import Site
from salus.transfer import cells
from salus.transfer.csvfile import ProblemList, Table
from salus.transfer.importing import ImportContext

COLUMNS = ("code", "name", "area", "kind")
HELP = "Sites (places or teams that give services) and the areas they are in"

# Site and area codes: letters, digits, "-", "_" and "."; no spaces or slashes.
CODE = re.compile(r"^[\w.\-]{1,40}$")


@dataclass
class SiteRow:
    line: int
    code: str
    name: str
    area_path: str
    kind: str


def parse(table: Table, ctx: ImportContext, problems: ProblemList) -> list[SiteRow]:
    if ctx.site_ids is not None:
        # Sites belong to the organisation: only organisation-wide users may change them.
        problems.add(1, "", _("only an administrator or manager may import sites"))
        return []
    out = []
    seen: dict[str, int] = {}
    for line, v in table.rows:
        ok = True
        code = v[0].strip()
        if not CODE.match(code):
            problems.add(line, "code", _("%(value)s is not a site code (up to 40 letters, digits, - _ or .)")
                         % {"value": code or '""'})
            ok = False
        elif code in seen:
            problems.add(line, "code", _("site %(code)s is on line %(line)d too") % {"code": code, "line": seen[code]})
            ok = False
        else:
            seen[code] = line
        try:
            name = cells.text(v[1], max_length=200, required=True)
        except cells.CellError as exc:
            problems.add(line, "name", str(exc))
            ok = False
        path = v[2].strip().strip("/")
        if "/" in path:
            parts = path.split("/")
            if not all(CODE.match(p) for p in parts):
                problems.add(line, "area", _("%(value)s is not an area path such as XL/NORTH/N1") % {"value": path})
                ok = False
        else:
            try:
                path = find_area(path).path
            except AreaPathError as exc:
                problems.add(line, "area", _("%(error)s Write the full path to create it.") % {"error": exc})
                ok = False
        try:
            kind = cells.choice(v[3], Site.Kind.values, blank_ok=False)
        except cells.CellError as exc:
            problems.add(line, "kind", str(exc))
            ok = False
        if ok:
            out.append(SiteRow(line, code, name, path, kind))
    return out


def apply(ctx: ImportContext, rows: list[SiteRow]) -> dict:
    created = updated = 0
    for r in rows:
        area = do_ensure_area_path(ctx.actor, r.area_path)
        _site, was_created = do_save_site(ctx.actor, code=r.code, name=r.name, area=area, kind=r.kind)
        created += was_created
        updated += not was_created
    return {"sites_created": created, "sites_updated": updated}
