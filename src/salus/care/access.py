"""Access to this package's records, built on salus.core.access (one helper per object).

Views and API endpoints call these and never filter by site themselves. Objects outside the
user's reach are "not found" (NotVisible, 404) so their existence is not revealed.

Rights-violation reports are the most sensitive records in Salus:
- reading one needs ``rights.view``, which needs the rights focal person grant
  (salus.core.access.can), and is limited to the user's sites;
- a staff member who may take reports (``rights.report``) but not read them sees only that
  the reports they took themselves exist (date, type of report, reference), nothing of others'.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from salus.core import access


def goals(user) -> QuerySet:
    """Goals of clients at the user's sites, recorded at the user's sites."""
    from salus.care.models import Goal

    access.require(user, "care.view")
    ids = access.site_ids(user)
    qs = Goal.objects.select_related("client", "site").filter(client__in=access.clients(user))
    return qs if ids is None else qs.filter(site_id__in=ids)


def get_goal_for_user(user, goal_id):
    return access._get(goals(user), goal_id)


def goal_events(user) -> QuerySet:
    from salus.care.models import GoalEvent

    access.require(user, "care.view")
    ids = access.site_ids(user)
    qs = GoalEvent.objects.select_related("goal", "site")
    return qs if ids is None else qs.filter(site_id__in=ids)


def get_care_client_for_user(user, client_id):
    """The client for the care pages: needs ``care.view`` and the client in the user's reach."""
    access.require(user, "care.view")
    return access.get_client_for_user(user, client_id)


def rights_reports(user) -> QuerySet:
    """Reports whose content the user may read: ``rights.view`` (with the focal person grant),
    at the user's sites."""
    from salus.care.models import RightsReport

    access.require(user, "rights.view")
    ids = access.site_ids(user)
    qs = RightsReport.objects.select_related("site", "area", "taken_by")
    return qs if ids is None else qs.filter(site_id__in=ids)


def own_rights_reports(user) -> QuerySet:
    """Reports the user took; their existence only is shown to someone without ``rights.view``."""
    from salus.care.models import RightsReport

    access.require(user, "rights.report")
    return RightsReport.objects.filter(taken_by=user).only("id", "created_at", "site")


def get_rights_report_for_user(user, report_id):
    """The report if the user may read it, else NotVisible. The caller audits the view."""
    if not access.can(user, "rights.view"):
        # Same answer whether or not the report exists.
        raise access.NotVisible()
    return access._get(rights_reports(user), report_id)


def feedback(user) -> QuerySet:
    from salus.care.models import Feedback

    access.require(user, "feedback.view")
    ids = access.site_ids(user)
    qs = Feedback.objects.select_related("site")
    return qs if ids is None else qs.filter(site_id__in=ids)


def feedback_responses(user) -> QuerySet:
    from salus.care.models import FeedbackResponse

    access.require(user, "feedback.view")
    ids = access.site_ids(user)
    qs = FeedbackResponse.objects.select_related("site")
    return qs if ids is None else qs.filter(site_id__in=ids)


def sites_with(user, capability: str) -> QuerySet:
    """The user's sites, if the user holds ``capability``."""
    access.require(user, capability)
    return access.sites(user)


def aggregate_sites(user) -> QuerySet:
    """Sites whose aggregates the user may see (``indicators.view``)."""
    if not access.can(user, "indicators.view"):
        raise PermissionDenied("indicators.view")
    return access.sites(user)
