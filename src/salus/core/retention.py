"""Retention: purge individual records past the retention period, erase one client on request.

Both keep the program's history as *aggregates*: before any individual record is deleted, its
counts are added to :class:`RetainedAggregate` rows (one per month, site and measure), so totals
for past periods can still be reported. Nothing in those rows points to a person.

- ``salus purge --older-than YEARS`` deletes contacts, referrals, OST doses, ended OST episodes
  and overdose events dated before the first day of the month YEARS years ago (whole months, so
  each month's unique-client count is taken in one go and stays exact), then clients left with
  no record at all. Reason ``purged``.
- ``salus forget-client`` erases every record of one client (and the records merged into
  theirs). Their counts are kept as anonymous ``forgotten`` aggregates, so totals reported
  before the erasure can still be reconciled. Reason ``forgotten``.

Stock history is not individual data: movements made by a deleted contact stay (unlinked from
it), so stock levels remain exactly the sum of movements. The audit log is never touched: its
rows name records by opaque ids that no longer resolve to anyone.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db import models, transaction
from django.db.models.deletion import ProtectedError
from django.utils.translation import gettext_lazy as _

# What is kept per (month, site), and from which records. Keep docs/security.md in step.
MEASURES = {
    "contacts": "contacts",
    "clients": "unique clients with a contact",
    "syringes_given": "syringes and needles given",
    "syringes_returned": "syringes returned",
    "other_equipment_given": "other injecting equipment given",
    "condoms_given": "condoms given",
    "naloxone_kits_given": "naloxone kits given",
    "education": "contacts with information and education",
    "hiv_tests": "HIV tests",
    "hiv_results_given": "HIV results given",
    "hiv_positive": "positive HIV results",
    "hcv_tests": "HCV tests",
    "hcv_results_given": "HCV results given",
    "hcv_positive": "positive HCV results",
    "referrals": "referrals made",
    "referrals_attended": "referrals attended",
    "ost_episodes_started": "OST episodes started",
    "ost_doses": "OST doses recorded",
    "overdoses": "overdose events recorded",
    "overdose_deaths": "overdose events with death",
    "overdoses_naloxone": "overdose events where naloxone was given",
}


class RetainedAggregate(models.Model):
    """A count kept after the individual records behind it were deleted."""

    class Reason(models.TextChoices):
        PURGED = "purged", _("Past the retention period")
        FORGOTTEN = "forgotten", _("Erased on the client's request")

    id = models.BigAutoField(primary_key=True)
    # The first day of the month the records were dated in (program time zone).
    month = models.DateField(_("month"))
    site_code = models.CharField(_("site"), max_length=40)
    measure = models.CharField(_("measure"), max_length=40)
    value = models.BigIntegerField(_("value"), default=0)
    reason = models.CharField(_("reason"), max_length=10, choices=Reason.choices)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "core"
        verbose_name = _("retained aggregate")
        verbose_name_plural = _("retained aggregates")
        constraints = [
            models.UniqueConstraint(fields=["month", "site_code", "measure", "reason"], name="retained_aggregate_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.site_code} {self.measure}={self.value} ({self.reason})"


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def cutoff_for(years: int, today: dt.date | None = None) -> dt.date:
    """The first day of the month ``years`` years before ``today``'s month: records dated before
    it are past retention."""
    from salus.services.actions import local_date

    if years < 1:
        raise ValueError("the retention period is at least one year")
    today = today or local_date(dt.datetime.now(dt.UTC))
    return dt.date(today.year - years, today.month, 1)


def _aggregate(contacts, referrals, doses, episodes, overdoses) -> dict[tuple[dt.date, str, str], int]:
    """Counts per (month, site code, measure) of the given querysets."""
    out: dict[tuple[dt.date, str, str], int] = defaultdict(int)
    clients: dict[tuple[dt.date, str], set] = defaultdict(set)
    for c in contacts.select_related("site").iterator(chunk_size=2000):
        key = (month_of(c.date), c.site.code)
        out[(*key, "contacts")] += 1
        clients[key].add(c.client_id)
        for name in ("syringes_given", "syringes_returned", "other_equipment_given", "condoms_given", "naloxone_kits_given"):
            out[(*key, name)] += getattr(c, name)
        out[(*key, "education")] += int(c.education)
        out[(*key, "hiv_tests")] += int(c.hiv_tested)
        out[(*key, "hiv_results_given")] += int(c.hiv_result_given)
        out[(*key, "hiv_positive")] += int(c.hiv_result == "positive")
        out[(*key, "hcv_tests")] += int(c.hcv_tested)
        out[(*key, "hcv_results_given")] += int(c.hcv_result_given)
        out[(*key, "hcv_positive")] += int(c.hcv_result == "positive")
    for key, ids in clients.items():
        out[(*key, "clients")] += len(ids)
    for r in referrals.select_related("site").iterator(chunk_size=2000):
        key = (month_of(r.made_on), r.site.code)
        out[(*key, "referrals")] += 1
        out[(*key, "referrals_attended")] += int(r.status == "attended")
    for e in episodes.select_related("site").iterator(chunk_size=2000):
        out[(month_of(e.start_date), e.site.code, "ost_episodes_started")] += 1
    for d in doses.select_related("episode__site").iterator(chunk_size=2000):
        out[(month_of(d.date), d.episode.site.code, "ost_doses")] += 1
    for o in overdoses.select_related("site").iterator(chunk_size=2000):
        key = (month_of(o.date), o.site.code)
        out[(*key, "overdoses")] += 1
        out[(*key, "overdose_deaths")] += int(o.outcome == "died")
        out[(*key, "overdoses_naloxone")] += int(o.naloxone_given)
    return {k: v for k, v in out.items() if v}


def _add_aggregates(counts: dict, reason: str) -> int:
    from django.db.models import F

    for (month, site_code, measure), value in counts.items():
        updated = RetainedAggregate.objects.filter(
            month=month, site_code=site_code, measure=measure, reason=reason
        ).update(value=F("value") + value)
        if not updated:
            RetainedAggregate.objects.create(month=month, site_code=site_code, measure=measure, reason=reason, value=value)
    return len(counts)


def _client_relations():
    """Every (model, field name) with a foreign key to Client, other than Client itself."""
    from salus.clients.models import Client

    rels = []
    for rel in Client._meta.related_objects:
        if rel.related_model is Client or not rel.field.concrete:
            continue
        rels.append((rel.related_model, rel.field.name))
    return rels


def _delete_all(querysets: list) -> dict[str, int]:
    """Delete every queryset, retrying those blocked by a PROTECT until none is left.

    Stock movements made by a contact are unlinked first, so stock levels stay equal to the sum
    of movements.
    """
    from salus.services.models import Contact
    from salus.stock.models import StockMovement

    deleted: dict[str, int] = defaultdict(int)
    pending = list(querysets)
    for _round in range(len(pending) + 2):
        blocked = []
        for qs in pending:
            if qs.model is Contact:
                StockMovement.objects.filter(contact__in=qs.values("pk")).update(contact=None)
            try:
                _n, per_model = qs.delete()
            except ProtectedError:
                blocked.append(qs)
                continue
            for label, n in per_model.items():
                deleted[label] += n
        if not blocked:
            return dict(deleted)
        pending = blocked
    raise RuntimeError("records still protected by others: " + ", ".join(qs.model._meta.label for qs in pending))


@transaction.atomic
def do_purge(actor, *, years: int, today: dt.date | None = None, dry_run: bool = False) -> dict:
    """Aggregate and then delete individual records older than ``years`` (whole months).

    Returns {"cutoff": date, "aggregates": n rows touched, "deleted": {model: n}}.
    With ``dry_run`` nothing is written (the counts are what would be deleted).
    """
    from salus.clients.models import Client
    from salus.core import audit
    from salus.services.models import Contact, OSTDose, OSTEpisode, OverdoseEvent, Referral

    cutoff = cutoff_for(years, today)
    contacts = Contact.objects.filter(date__lt=cutoff)
    referrals = Referral.objects.filter(made_on__lt=cutoff)
    episodes = OSTEpisode.objects.filter(end_date__lt=cutoff)
    doses = OSTDose.objects.filter(date__lt=cutoff)
    overdoses = OverdoseEvent.objects.filter(date__lt=cutoff)
    counts = _aggregate(contacts, referrals, doses, episodes, overdoses)
    summary: dict[str, Any] = {
        "cutoff": cutoff.isoformat(),
        "would_delete" if dry_run else "deleted": {
            "contacts": contacts.count(), "referrals": referrals.count(), "ost_episodes": episodes.count(),
            "ost_doses": doses.count(), "overdoses": overdoses.count(),
        },
    }
    if dry_run:
        transaction.set_rollback(True)
        return summary
    summary["aggregates"] = _add_aggregates(counts, RetainedAggregate.Reason.PURGED)
    # Doses first (their own date), then the records themselves.
    deleted = _delete_all([doses, overdoses, referrals, episodes, contacts])
    # Clients left with nothing, registered before the cutoff, and records merged into them.
    relations = _client_relations()
    empty = Client.objects.filter(
        models.Q(registered_at__date__lt=cutoff) | models.Q(first_contact_date__lt=cutoff), merged_into__isnull=True
    )
    for model, field in relations:
        if model._meta.label in ("clients.ClientSite", "clients.UICNeighbourKey", "clients.DuplicateDismissal"):
            continue
        empty = empty.exclude(pk__in=model.objects.values(field))
    ids = set(empty.values_list("pk", flat=True))
    ids |= _merged_into(ids)
    clients_deleted = _delete_clients(ids)
    deleted["clients"] = clients_deleted
    summary["deleted"]["clients"] = clients_deleted
    audit.record(actor, "retention.purge", object_type="retention", detail={
        "cutoff": summary["cutoff"], "deleted": summary["deleted"], "aggregates": summary["aggregates"],
    })
    _forget_kept_counts()
    return summary


def _merged_into(ids: set) -> set:
    """Every client record merged (directly or through others) into one of ``ids``."""
    from salus.clients.models import Client

    found: set = set()
    frontier = set(ids)
    while frontier:
        more = set(Client.objects.filter(merged_into__in=frontier).values_list("pk", flat=True)) - found - ids
        found |= more
        frontier = more
    return found


def _delete_clients(ids: set) -> int:
    from salus.clients.models import Client, DuplicateDismissal

    if not ids:
        return 0
    pks = list(ids)
    DuplicateDismissal.objects.filter(models.Q(client_a__in=pks) | models.Q(client_b__in=pks)).delete()
    # Break merge links inside the set first, so deleting one does not null another's link.
    Client.objects.filter(pk__in=pks).update(merged_into=None)
    n = 0
    for start in range(0, len(pks), 500):
        _total, per_model = Client.objects.filter(pk__in=pks[start : start + 500]).delete()
        n += per_model.get("clients.Client", 0)
    return n


class ForgetError(ValueError):
    pass


@transaction.atomic
def do_forget_client(actor, client) -> dict:
    """Erase every record of ``client`` and of records merged into theirs.

    ``actor`` must be an administrator. Their counts are first kept as anonymous ``forgotten``
    aggregates. Returns {model label: rows deleted}.
    """
    from salus.clients.models import Client
    from salus.core import audit
    from salus.services.models import Contact, OSTDose, OSTEpisode, OverdoseEvent, Referral

    if getattr(actor, "role", None) != "admin" or not actor.is_active:
        raise ForgetError("only an active administrator may erase a client's records")
    if client.merged_into_id is not None:
        raise ForgetError("this record was merged into another; erase that one (its id is the live record)")
    ids = {client.pk} | _merged_into({client.pk})
    counts = _aggregate(
        Contact.objects.filter(client__in=ids), Referral.objects.filter(client__in=ids),
        OSTDose.objects.filter(episode__client__in=ids), OSTEpisode.objects.filter(client__in=ids),
        OverdoseEvent.objects.filter(client__in=ids),
    )
    _add_aggregates(counts, RetainedAggregate.Reason.FORGOTTEN)
    querysets = []
    for model, field in _client_relations():
        if model._meta.label in ("clients.ClientSite", "clients.UICNeighbourKey", "clients.DuplicateDismissal"):
            continue
        querysets.append(model.objects.filter(**{f"{field}__in": ids}))
    deleted = _delete_all(querysets)
    deleted["clients.Client"] = _delete_clients(ids)
    if Client.objects.filter(pk__in=ids).exists():
        raise ForgetError("the client record could not be erased")
    # The audit row names the erased record by its id only (no UIC exists to name it by).
    audit.record(actor, "client.forget", object_type="client", object_id=str(client.pk), detail={"deleted": deleted})
    _forget_kept_counts()
    return deleted


def _forget_kept_counts() -> None:
    """Once the records are gone, empty the web app's kept counts (salus.core.kept; shared in
    files by the server's processes, so this reaches them from the command line too): no page
    should go on counting erased records for the minutes its answers are kept."""
    from salus.core.kept import forget_all

    transaction.on_commit(forget_all)
