"""Person-centred care: overdose-risk prompts shown, client-chosen goals, rights-violation
reports and anonymous community feedback.

Writes go through salus.care.actions; reads of individual records through salus.care.access
(which builds on salus.core.access).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from salus.clients.models import Client
from salus.core.crypto import EncryptedTextField
from salus.core.models import Area, Site


class PromptCheck(models.Model):
    """Overdose-risk prompts shown to one worker for one client on one day, and whether
    naloxone was offered and accepted after them.

    One row per (client, worker, day): opening the same record again that day updates it, so
    the counts mean "times a worker saw the prompts for a person", not page loads.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+", db_index=False)
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    shown_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    # The program-local date the prompts were shown on.
    shown_on = models.DateField(_("shown on"))
    # Codes of the rules that applied (salus.care.rules.RULES).
    rule_codes = models.JSONField(default=list)
    # None until the worker records the offer; then True/False.
    naloxone_offered = models.BooleanField(_("naloxone offered"), null=True, blank=True)
    naloxone_accepted = models.BooleanField(_("naloxone accepted"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("risk prompt check")
        verbose_name_plural = _("risk prompt checks")
        constraints = [
            models.UniqueConstraint(fields=["client", "shown_by", "shown_on"], name="promptcheck_once_a_day"),
        ]
        indexes = [
            # Program aggregates: prompts shown in a period at a set of sites.
            models.Index(fields=["shown_on", "site"], name="promptcheck_date_site"),
        ]

    def __str__(self) -> str:
        return f"{self.shown_on} {','.join(self.rule_codes)}"

    @classmethod
    def move_client_records(cls, merge, keep) -> int:
        """On a client merge: two checks by the same worker on the same day become one (the
        constraint's meaning), keeping the kept record's row and taking the naloxone offer from
        the merged one if only it was recorded; the merged record's other checks move."""
        kept = {(c.shown_by_id, c.shown_on): c for c in cls.objects.filter(client=keep)}
        rows = cls.objects.filter(client=merge)
        for other in rows:
            same = kept.get((other.shown_by_id, other.shown_on))
            if same is None:
                continue
            if same.naloxone_offered is None and other.naloxone_offered is not None:
                same.naloxone_offered, same.naloxone_accepted = other.naloxone_offered, other.naloxone_accepted
            same.rule_codes = sorted(set(same.rule_codes) | set(other.rule_codes))
            same.save(update_fields=["naloxone_offered", "naloxone_accepted", "rule_codes", "updated_at"])
            other.delete()
        return rows.update(client=keep)


class Goal(models.Model):
    """A goal a client chose, on one rung of the program's goal ladder (config goal_ladder).

    A client may hold several goals at once, or none. ``ended_on`` is set when the client no
    longer wants to pursue it, whatever the reason; an ended goal stays on the timeline.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="care_goals", db_index=False)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    rung = models.CharField(_("goal"), max_length=40)
    chosen_on = models.DateField(_("chosen on"))
    ended_on = models.DateField(_("set aside on"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("goal")
        verbose_name_plural = _("goals")
        indexes = [models.Index(fields=["client", "chosen_on"], name="goal_client")]

    def __str__(self) -> str:
        return f"{self.rung} {self.chosen_on}"


class GoalEvent(models.Model):
    """A step toward a goal or a setback, noted at a contact (or on its own)."""

    class Kind(models.TextChoices):
        STEP = "step", _("A step toward it")
        SETBACK = "setback", _("A setback")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="events")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    contact = models.ForeignKey(
        "services.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    date = models.DateField(_("date"))
    kind = models.CharField(_("what happened"), max_length=10, choices=Kind.choices)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("goal event")
        verbose_name_plural = _("goal events")
        ordering = ["date"]
        indexes = [models.Index(fields=["date", "site"], name="goalevent_date_site")]

    def __str__(self) -> str:
        return f"{self.date} {self.kind}"


class ViolationType(models.TextChoices):
    POLICE_HARASSMENT = "police_harassment", _("Police harassment or extortion")
    CONFISCATION = "confiscation", _("Syringes, naloxone or other supplies taken away")
    DETENTION = "detention", _("Arbitrary arrest or detention")
    FORCED_TESTING = "forced_testing", _("Forced testing or treatment")
    HEALTH_CARE_DENIAL = "health_care_denial", _("Denied health care")
    VIOLENCE = "violence", _("Violence")
    DISCRIMINATION = "discrimination", _("Discrimination at work or in services")
    OTHER = "other", _("Other")


class Perpetrator(models.TextChoices):
    POLICE = "police", _("Police or other law enforcement")
    HEALTH_WORKER = "health_worker", _("Health worker")
    SOCIAL_SERVICES = "social_services", _("Social or other public services")
    EMPLOYER = "employer", _("Employer")
    FAMILY = "family", _("Family or partner")
    COMMUNITY = "community", _("Community member")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Not known")


class ClientWants(models.TextChoices):
    NOTHING = "nothing", _("Nothing for now, only to report it")
    LEGAL = "legal", _("Legal help")
    MEDICAL = "medical", _("Medical help")
    ADVOCACY = "advocacy", _("Advocacy")


class RightsReport(models.Model):
    """A rights violation a client chose to report (REAct-like). The most sensitive record in
    Salus: free text is encrypted, reading needs ``rights.view`` and the focal person grant,
    every view is audited, and no individual-level export includes it.

    The place is an ``area`` only, never an exact place. ``client`` is optional: a person may
    report without being identified.
    """

    class Outcome(models.TextChoices):
        OPEN = "open", _("Being followed up")
        RESOLVED = "resolved", _("Resolved as the client wished")
        PARTLY = "partly", _("Partly resolved")
        NOT_RESOLVED = "not_resolved", _("Not resolved")
        CLIENT_STOPPED = "client_stopped", _("The client chose to stop")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+", db_index=False)
    client = models.ForeignKey(Client, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    taken_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    occurred_on = models.DateField(_("when it happened"))
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+", verbose_name=_("area"))
    violation_type = models.CharField(_("what happened"), max_length=30, choices=ViolationType.choices)
    perpetrator = models.CharField(_("who did it"), max_length=20, choices=Perpetrator.choices)
    # A list of ClientWants values.
    client_wants = models.JSONField(_("what the client wants"), default=list)
    details = EncryptedTextField(_("details"), blank=True, default="")
    response = EncryptedTextField(_("response given"), blank=True, default="")
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, default=Outcome.OPEN)
    consent_advocacy = models.BooleanField(_("consents to use in anonymous advocacy reports"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("rights-violation report")
        verbose_name_plural = _("rights-violation reports")
        indexes = [models.Index(fields=["site", "occurred_on"], name="rights_site_date")]

    def __str__(self) -> str:
        # The reference only: never the content.
        return str(self.id)[:8].upper()


class Feedback(models.Model):
    """One anonymous piece of community feedback, given on the site's form without log-in.

    No identifier of the person is kept: not their address, not their client record. Free text
    is encrypted because people write what they want, names included.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+", db_index=False)
    # Day only: an exact time could tell staff who was at the tablet.
    submitted_on = models.DateField(_("given on"))
    language = models.CharField(_("language"), max_length=10, blank=True)
    # 1 (very unhappy) .. 5 (very happy); None when not answered.
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction"), null=True, blank=True)
    missing = EncryptedTextField(_("what is missing"), blank=True, default="")
    went_wrong = EncryptedTextField(_("what went wrong"), blank=True, default="")
    suggestions = EncryptedTextField(_("suggestions"), blank=True, default="")

    class Meta:
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        indexes = [models.Index(fields=["site", "submitted_on"], name="feedback_site_date")]

    def __str__(self) -> str:
        return f"{self.submitted_on} {self.site_id}"


class FeedbackResponse(models.Model):
    """"You said, we did": what people told the site and what it changed in response."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    you_said = models.TextField(_("you said"), max_length=1000)
    we_did = models.TextField(_("we did"), max_length=1000)
    # Shown on the public feedback page and the printable poster.
    published = models.BooleanField(_("show to clients"), default=True)
    created_on = models.DateField(_("date"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("feedback response")
        verbose_name_plural = _("feedback responses")
        ordering = ["-created_on"]

    def __str__(self) -> str:
        return f"{self.created_on} {self.site_id}"


class FeedbackThrottle(models.Model):
    """Submissions counted per rate-limit window, per site and per hashed client address.

    ``key`` is a keyed hash of (window, site, address) so the raw IP is never stored and the
    same address cannot be followed from one window to the next. Rows older than a day are
    deleted when new ones are written.
    """

    key = models.CharField(max_length=64, primary_key=True)
    window_start = models.DateTimeField(db_index=True)
    count = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.window_start} {self.count}"
