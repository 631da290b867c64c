"""OST episodes, one row per episode: ``uic,site,medication,start_date,end_date,end_reason``.

A blank ``end_date`` means the episode is ongoing; ``end_reason`` is given exactly when
``end_date`` is. The client is found by UIC, or registered at the site if new. An episode is
known by its client, site, medication and start date: importing it again with an end date
closes it; importing the same row again changes nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.utils.translation import gettext as _

from salus.clients import uic as uicmod
from salus.clients.actions import ClientAttributes, get_or_register_client
from salus.core.models import Site
from salus.services.models import OSTEpisode, Source
from salus.transfer import cells
from salus.transfer.csvfile import ProblemList, Table
from salus.transfer.importing import ImportContext

COLUMNS = ("uic", "site", "medication", "start_date", "end_date", "end_reason")
HELP = "Opioid substitution treatment episodes, one row per episode"

EPISODE_NAMESPACE = uuid.UUID("0b9a3e1c-7d2f-5c44-8e61-2f7d4a9b5c10")


@dataclass
class EpisodeRow:
    line: int
    hashes: uicmod.UICHashes
    site: Site
    medication: str
    start_date: dt.date
    end_date: dt.date | None
    end_reason: str

    @property
    def episode_id(self) -> uuid.UUID:
        key = "\x1f".join((self.hashes.uic_hash, self.site.code, self.medication, self.start_date.isoformat()))
        return uuid.uuid5(EPISODE_NAMESPACE, key)


def parse(table: Table, ctx: ImportContext, problems: ProblemList) -> list[EpisodeRow]:
    from salus.transfer.importers.contacts import program_today

    sites = {s.code: s for s in Site.objects.all()}
    allowed = ctx.site_ids
    today = program_today()
    out: list[EpisodeRow] = []
    open_in_file: dict[str, int] = {}
    for line, v in table.rows:
        ok = True
        try:
            hashes = uicmod.hash_raw(v[0]) if v[0].strip() else None
            if hashes is None:
                raise uicmod.InvalidUIC(_("the UIC cannot be blank"))
        except uicmod.InvalidUIC as exc:
            problems.add(line, "uic", str(exc))
            ok = False
        site = sites.get(v[1].strip())
        if site is None:
            problems.add(line, "site", _("unknown site %(code)s") % {"code": v[1].strip() or '""'})
            ok = False
        elif allowed is not None and site.id not in allowed:
            problems.add(line, "site", _("%(code)s is not one of your sites") % {"code": site.code})
            ok = False
        values: dict[str, str] = {}
        dates: dict[str, dt.date | None] = {}
        try:
            values["medication"] = cells.choice(v[2], OSTEpisode.Medication.values, blank_ok=False)
        except cells.CellError as exc:
            problems.add(line, "medication", str(exc))
            ok = False
        for i, name in ((3, "start_date"), (4, "end_date")):
            try:
                dates[name] = cells.date(v[i], today) if (name == "start_date" or v[i].strip()) else None
            except cells.CellError as exc:
                problems.add(line, name, str(exc))
                ok = False
        try:
            values["end_reason"] = cells.choice(v[5], OSTEpisode.EndReason.values, blank_ok=True)
        except cells.CellError as exc:
            problems.add(line, "end_reason", str(exc))
            ok = False
        start, end, reason = dates.get("start_date"), dates.get("end_date"), values.get("end_reason")
        if start and end and end < start:
            problems.add(line, "end_date", _("the end date is before the start date"))
            ok = False
        if "end_date" in dates and "end_reason" in values and bool(end) != bool(reason):
            problems.add(line, "end_reason", _("give an end reason exactly when there is an end date"))
            ok = False
        if not ok:
            continue
        # Every cell was read: the UIC hashed, the site and the start date were found.
        assert hashes is not None and site is not None and start is not None and reason is not None
        if end is None:
            other = open_in_file.get(hashes.uic_hash)
            if other is not None:
                problems.add(line, "end_date", _("this client has another ongoing episode on line %(line)d")
                             % {"line": other})
                continue
            open_in_file[hashes.uic_hash] = line
        out.append(EpisodeRow(line, hashes, site, values["medication"], start, end, reason))
    _check_open_episodes(out, problems)
    return out


def _check_open_episodes(rows: list[EpisodeRow], problems: ProblemList) -> None:
    """An ongoing episode in the file must not meet another ongoing episode already recorded."""
    from salus.clients.actions import find_by_hashes

    for r in rows:
        if r.end_date is not None:
            continue
        client = find_by_hashes(r.hashes)
        if client is None:
            continue
        clash = OSTEpisode.objects.filter(client=client, end_date__isnull=True).exclude(id=r.episode_id).exists()
        if clash:
            problems.add(r.line, "end_date", _("this client already has an ongoing OST episode; end it first"))


def apply(ctx: ImportContext, rows: list[EpisodeRow]) -> dict:
    created = ended = unchanged = 0
    actor = ctx.actor
    staff = actor if not isinstance(actor, str) and getattr(actor, "pk", None) else None
    for r in rows:
        client, _created = get_or_register_client(ctx.actor, r.site, r.hashes, ClientAttributes(), seen_on=r.start_date)
        ep = OSTEpisode.objects.filter(id=r.episode_id).first()
        if ep is None:
            OSTEpisode.objects.create(
                id=r.episode_id, client=client, site=r.site, medication=r.medication, start_date=r.start_date,
                end_date=r.end_date, end_reason=r.end_reason, created_by=staff, source=Source.IMPORT,
            )
            created += 1
        elif (ep.end_date, ep.end_reason) != (r.end_date, r.end_reason):
            ep.end_date, ep.end_reason = r.end_date, r.end_reason
            ep.save(update_fields=["end_date", "end_reason"])
            ended += 1
        else:
            unchanged += 1
    return {"episodes_created": created, "episodes_updated": ended, "episodes_unchanged": unchanged}
