"""Small-cell suppression for everything that leaves the system.

A count from 1 to ``threshold - 1`` (program configuration ``suppression_threshold``, default
5: counts 1-4) could point at a person, so it is never shown (*primary suppression*). Hiding
it is not enough when the total and the other cells of its group are shown: the hidden cell
would be their difference. So, in every additive group (a parent cell and the cells that add
up to it), a group with exactly one hidden member gets a second one: the smallest non-zero
shown member (*complementary suppression*), repeated until no group has exactly one hidden
member. A final linear-algebra check then makes sure that no hidden cell can be solved from
all the equations together, hiding more cells if needed. Proportions, ratios and rates are
hidden when their numerator or denominator is hidden.

``suppress_groups`` is a pure function over cell dicts; reports, exports and the care and
rights reports all use it.
"""

from __future__ import annotations

from collections import defaultdict

from django.utils.translation import gettext as _

# Fields that may hold an additive count, in the order they are checked.
COUNT_FIELDS = ("numerator", "denominator")
# Fields derived from the counts: hidden with them.
DERIVED_FIELDS = ("value", "programme_value", "value_low", "value_high", "level")


def _table_key(cell: dict) -> tuple:
    return (cell.get("code"), cell.get("period"), cell.get("area"), cell.get("site"))


def _freeze(d: dict) -> tuple:
    return tuple(sorted(d.items()))


def _is_person_based(cell: dict) -> bool:
    if "person_based" in cell:
        return bool(cell["person_based"])
    from salus.indicators import catalogue

    ind = catalogue.BY_CODE.get(cell.get("code") or "")
    return ind.person_based if ind else True


def _additive_fields(cells: list[dict]) -> list[str]:
    """The count fields of a table: numerator and denominator where every cell has them,
    else ``value`` (a plain count table, e.g. from the care reports)."""
    fields = [f for f in COUNT_FIELDS if all(isinstance(c.get(f), int | float) for c in cells)]
    if fields:
        return fields
    if all(isinstance(c.get("value"), int | float) for c in cells):
        return ["value"]
    return []


def equations(cells: list[dict]) -> list[tuple[int, list[int]]]:
    """The additive groups of one table as (parent index, child indexes).

    A cell with disaggregation D adds up, with the cells that share its dimensions and agree
    with it on all but one dimension k, to the cell D minus k, when that cell is present:
    ``{"sex": "F"}`` cells add to the total ``{}``; ``{"sex", "age"}`` cells to their sex cell
    and to their age cell; ``{"area", "site"}`` cells to their area cell.
    """
    index = {_freeze(c.get("disaggregation") or {}): i for i, c in enumerate(cells)}
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, c in enumerate(cells):
        dis = c.get("disaggregation") or {}
        for k in dis:
            parent = {kk: vv for kk, vv in dis.items() if kk != k}
            pkey = _freeze(parent)
            if pkey in index:
                groups[(pkey, tuple(sorted(dis)), k)].append(i)
    return [(index[pkey], children) for (pkey, _dims, _k), children in groups.items()]


def _complement(values: list[float], hidden: set[int], eqs: list[tuple[int, list[int]]]) -> None:
    """Hide more cells until no group has exactly one hidden member (modifies ``hidden``)."""
    changed = True
    while changed:
        changed = False
        for parent, children in eqs:
            members = [parent, *children]
            unknown = [m for m in members if m in hidden]
            if len(unknown) != 1:
                continue
            shown = [m for m in members if m not in hidden]
            # The smallest non-zero shown member; children before the parent on a tie.
            pick = min(
                (m for m in shown if values[m] > 0),
                key=lambda m: (values[m], m == parent, m),
                default=None,
            )
            if pick is None:
                pick = min(shown, key=lambda m: (m == parent, values[m], m))
            hidden.add(pick)
            changed = True


def _determined(values: list[float], hidden: set[int], eqs: list[tuple[int, list[int]]]) -> list[int]:
    """Hidden cells that the equations pin down exactly, given the shown cells."""
    import numpy as np

    unknowns = sorted(hidden)
    if not unknowns:
        return []
    col = {m: j for j, m in enumerate(unknowns)}
    rows = []
    for parent, children in eqs:
        if not any(m in hidden for m in (parent, *children)):
            continue
        row = np.zeros(len(unknowns))
        if parent in hidden:
            row[col[parent]] = 1.0
        for c in children:
            if c in hidden:
                row[col[c]] -= 1.0
        rows.append(row)
    if not rows:
        return []  # no group links a hidden cell to shown ones: nothing can be solved
    a = np.array(rows)
    # x_j is determined iff every vector of the null space of A is zero at j.
    _u, s, vt = np.linalg.svd(a)
    rank = int((s > 1e-9).sum())
    null = vt[rank:]
    if null.shape[0] == 0:
        return unknowns
    return [m for m, j in col.items() if np.all(np.abs(null[:, j]) < 1e-9)]


def _protect(values: list[float], threshold: int, eqs: list[tuple[int, list[int]]]) -> set[int]:
    hidden = {i for i, v in enumerate(values) if 0 < v < threshold}
    if not hidden:
        return hidden
    _complement(values, hidden, eqs)
    while True:
        exposed = [m for m in _determined(values, hidden, eqs) if _linked(m, eqs)]
        if not exposed:
            return hidden
        # Hide the smallest non-zero shown cell of a group around the first exposed cell.
        target = exposed[0]
        candidates = {
            m for parent, children in eqs if target in (parent, *children)
            for m in (parent, *children) if m not in hidden
        }
        if not candidates:
            return hidden
        hidden.add(min(candidates, key=lambda m: (values[m] <= 0, values[m], m)))
        _complement(values, hidden, eqs)


def _linked(m: int, eqs) -> bool:
    return any(m == p or m in ch for p, ch in eqs)


def suppress_groups(cells: list[dict], threshold: int | None = None) -> list[dict]:
    """Return copies of ``cells`` with small counts and the cells that would reveal them hidden.

    ``cells`` are dicts like the engine's rows: ``disaggregation`` (``{}`` for the total),
    ``value`` and, for proportions/ratios, ``numerator`` and ``denominator``; ``code``,
    ``period``, ``area``, ``site`` (when present) separate tables. Each table must hold every
    cell of each group it contains (zeros included), as the engine returns them.
    ``threshold`` defaults to the program's ``suppression_threshold``.

    Hidden numbers become ``None``; a cell with anything hidden gets ``suppressed: True`` and a
    note. Tables of indicators not about people (STOCKOUT_DAYS) are returned unchanged.
    """
    if threshold is None:
        from salus.core.config import program_config

        threshold = program_config().suppression_threshold
    out = [dict(c) for c in cells]
    for c in out:
        c.setdefault("suppressed", False)
    if threshold <= 1:
        return out
    tables: dict[tuple, list[int]] = defaultdict(list)
    for i, c in enumerate(out):
        tables[_table_key(c)].append(i)
    for members in tables.values():
        table = [out[i] for i in members]
        if not _is_person_based(table[0]):
            continue
        eqs = equations(table)
        for field in _additive_fields(table):
            values = [float(c[field]) for c in table]
            for j in _protect(values, threshold, eqs):
                _hide(table[j], field)
    return out


def _hide(cell: dict, field: str) -> None:
    cell[field] = None
    for f in DERIVED_FIELDS:
        if f in cell:
            cell[f] = None
    if field == "value" or cell.get("kind") in (None, "count"):
        # A count's value, numerator and programme value are the same number.
        for f in ("value", "numerator", "programme_value"):
            if f in cell:
                cell[f] = None
    if not cell.get("suppressed"):
        cell["suppressed"] = True
        note = _("Hidden: a small number that could identify people, or one that would reveal it.")
        cell["note"] = f"{cell['note']} {note}".strip() if cell.get("note") else note


def suppress_rows(rows: list[dict], threshold: int | None = None) -> list[dict]:
    """Alias of :func:`suppress_groups` for engine rows."""
    return suppress_groups(rows, threshold)
