"""DHIS2 aggregate exports: ``dataValueSets`` JSON (idScheme=code) and ADX XML.

A *mapping file* (TOML, edited by the program; example: ``dhis2-mapping.example.toml`` next
to this module, documented in docs/exports.md) says which indicator cells go to which DHIS2
data element, org unit, category option combo (JSON) and category options (ADX)::

    data_set = "HRP_QUARTERLY"            # optional
    [org_units]                           # Salus area path or site code -> DHIS2 org unit code
    "XL" = "OU_XL"
    [categories.sex]                      # Salus dimension -> DHIS2 category and option codes (ADX)
    category = "SEX"
    options = { F = "FEMALE", M = "MALE", T = "TRANSGENDER", X = "SEX_UNKNOWN" }
    [[data_values]]
    indicator = "CLIENTS_REACHED"
    data_element = "HRP_CLIENTS_REACHED"
    field = "value"                       # value, programme_value, numerator or denominator
    scale = 1                             # e.g. 100 to send a proportion as a percentage
    cells = ["", "sex", "sex+age"]        # "" is the total; "site" sends each site's cell
    category_option_combos = { "" = "default", "sex=F" = "HRP_F" }   # JSON only

Rows are small-cell suppressed before anything is written; hidden or undefined values are
left out (never sent as zero) and counted in the summary.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import tomllib
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from salus.indicators import catalogue
from salus.indicators.periods import Period

FIELDS = ("value", "programme_value", "numerator", "denominator")
CELL_KINDS = ("", "sex", "age", "sex+age", "site")
_XML_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
ADX_NS = "urn:ihe:qrph:adx:2015"


class MappingError(ValueError):
    """The mapping file is not usable; the message says where."""


@dataclass
class DataValueRule:
    indicator: str
    data_element: str
    field: str = "value"
    scale: float = 1.0
    cells: tuple[str, ...] = ("",)
    category_option_combos: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclass
class Mapping:
    org_units: dict[str, str]
    categories: dict[str, tuple[str, dict[str, str]]]
    rules: list[DataValueRule]
    data_set: str = ""


def load_mapping(path: str | Path) -> Mapping:
    """Read and check a mapping file; MappingError names the first problem."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise MappingError(f"{path}: {exc}") from exc
    known = {"data_set", "org_units", "categories", "data_values"}
    if unknown := set(data) - known:
        raise MappingError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}")
    categories = {}
    for dim, spec in (data.get("categories") or {}).items():
        if dim not in ("sex", "age"):
            raise MappingError(f"{path}: categories.{dim}: only sex and age are disaggregations DHIS2 receives")
        if not isinstance(spec, dict) or "category" not in spec or "options" not in spec:
            raise MappingError(f"{path}: categories.{dim} needs category and options")
        if not _XML_NAME.match(spec["category"]):
            raise MappingError(f"{path}: categories.{dim}.category {spec['category']!r} is not a valid code")
        categories[dim] = (spec["category"], {str(k): str(v) for k, v in spec["options"].items()})
    rules = []
    for i, item in enumerate(data.get("data_values") or [], start=1):
        where = f"{path}: data_values #{i}"
        if item.get("indicator") not in catalogue.BY_CODE:
            raise MappingError(f"{where}: unknown indicator {item.get('indicator')!r}")
        if not item.get("data_element"):
            raise MappingError(f"{where}: data_element is missing")
        rule = DataValueRule(
            indicator=item["indicator"], data_element=str(item["data_element"]),
            field=item.get("field", "value"), scale=float(item.get("scale", 1)),
            cells=tuple(item.get("cells", [""])),
            category_option_combos={str(k): str(v) for k, v in (item.get("category_option_combos") or {}).items()},
        )
        if rule.field not in FIELDS:
            raise MappingError(f"{where}: field must be one of {', '.join(FIELDS)}")
        if bad := [c for c in rule.cells if c not in CELL_KINDS]:
            raise MappingError(f"{where}: unknown cells {bad}; use {', '.join(repr(c) for c in CELL_KINDS)}")
        rules.append(rule)
    if not rules:
        raise MappingError(f"{path}: no data_values")
    return Mapping(org_units={str(k): str(v) for k, v in (data.get("org_units") or {}).items()},
                   categories=categories, rules=rules, data_set=str(data.get("data_set", "")))


def _cell_kind(dis: dict) -> str | None:
    keys = tuple(sorted(dis))
    return {(): "", ("sex",): "sex", ("age",): "age", ("age", "sex"): "sex+age", ("area", "site"): "site"}.get(keys)


def _cell_label(dis: dict) -> str:
    """The key of a cell in category_option_combos: "", "sex=F", "age=<25", "sex=F;age=<25"."""
    return ";".join(f"{k}={dis[k]}" for k in ("sex", "age") if k in dis)


def _number(value: float, scale: float) -> str:
    v = value * scale
    if float(v).is_integer():
        return str(int(v))
    return format(v, ".10g")


@dataclass
class Item:
    org_unit: str
    data_element: str
    value: str
    dis: dict
    coc: str | None


@dataclass
class Result:
    items: list[Item]
    left_out: int  # suppressed or not computed
    problems: list[str]


def select(rows: list[dict], mapping: Mapping, scope_key: str) -> Result:
    """The data values the mapping asks for, from suppressed engine rows of one scope.

    ``scope_key`` is the area path (or site code) the rows were computed for; its org unit
    code comes from the mapping.
    """
    problems: list[str] = []
    items: list[Item] = []
    sent: set[tuple[str, str, str]] = set()
    left_out = 0
    by_code: dict[str, list[dict]] = {}
    for r in rows:
        by_code.setdefault(r["code"], []).append(r)
    for rule in mapping.rules:
        for r in by_code.get(rule.indicator, []):
            dis = r["disaggregation"]
            kind = _cell_kind(dis)
            if kind is None or kind not in rule.cells:
                continue
            if kind == "site":
                ou_key, cell_dis = dis["site"], {}
            else:
                ou_key, cell_dis = scope_key, dis
            org_unit = mapping.org_units.get(ou_key)
            if org_unit is None:
                problems.append(f"no org unit code for {ou_key!r} in [org_units]")
                continue
            label = _cell_label(cell_dis)
            key = (org_unit, rule.data_element, label)
            if key in sent:
                # A site's own export: its "site" cell is its total, already counted.
                continue
            sent.add(key)
            value = r.get(rule.field)
            if value is None:
                left_out += 1
                continue
            items.append(Item(org_unit, rule.data_element, _number(value, rule.scale), cell_dis,
                              rule.category_option_combos.get(label)))
    return Result(items, left_out, sorted(set(problems)))


def data_value_set(result: Result, mapping: Mapping, period: Period) -> dict:
    """A DHIS2 ``dataValueSets`` payload (bulk form, identifiers are codes)."""
    missing = sorted({_cell_label(i.dis) or "(total)" for i in result.items if i.coc is None})
    if missing:
        raise MappingError("category_option_combos has no code for cell(s): " + ", ".join(missing))
    payload: dict = {"idScheme": "code", "dataElementIdScheme": "code", "orgUnitIdScheme": "code"}
    if mapping.data_set:
        payload["dataSet"] = mapping.data_set
    payload["dataValues"] = [
        {"dataElement": i.data_element, "period": period.dhis2, "orgUnit": i.org_unit,
         "categoryOptionCombo": i.coc, "value": i.value}
        for i in result.items
    ]
    return payload


def adx_document(result: Result, mapping: Mapping, period: Period, exported: dt.datetime | None = None) -> bytes:
    """An ADX XML document: one group per org unit, disaggregations as category attributes."""
    ET.register_namespace("", ADX_NS)
    root = ET.Element(f"{{{ADX_NS}}}adx", {"exported": (exported or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")})
    groups: dict[str, ET.Element] = {}
    for i in result.items:
        group = groups.get(i.org_unit)
        if group is None:
            attrs = {"orgUnit": i.org_unit, "period": period.adx}
            if mapping.data_set:
                attrs["dataSet"] = mapping.data_set
            group = groups[i.org_unit] = ET.SubElement(root, f"{{{ADX_NS}}}group", attrs)
        attrs = {"dataElement": i.data_element}
        for dim in ("sex", "age"):
            if dim in i.dis:
                if dim not in mapping.categories:
                    raise MappingError(f"[categories.{dim}] is needed for cells split by {dim}")
                category, options = mapping.categories[dim]
                if i.dis[dim] not in options:
                    raise MappingError(f"categories.{dim}.options has no code for {i.dis[dim]!r}")
                attrs[category] = options[i.dis[dim]]
        attrs["value"] = i.value
        ET.SubElement(group, f"{{{ADX_NS}}}dataValue", attrs)
    ET.indent(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8") + b"\n"


def dumps_json(payload: dict) -> str:
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
