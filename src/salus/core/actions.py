"""Writes to the organisation: areas, sites, staff, API tokens. Each one audited."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from salus.core import audit, plainsql
from salus.core.models import ApiToken, Area, Site, User
from salus.core.roles import Role


class AreaPathError(ValueError):
    pass


def find_area(path_or_code: str) -> Area:
    """The area named by its path (``XL/NORTH/N1``) or by a bare code that is unique."""
    value = (path_or_code or "").strip().strip("/")
    if "/" in value:
        try:
            return Area.objects.get(path=value)
        except Area.DoesNotExist:
            raise AreaPathError(_("Unknown area %(path)s.") % {"path": value}) from None
    matches = list(Area.objects.filter(code=value)[:2])
    if not matches:
        raise AreaPathError(_("Unknown area %(path)s.") % {"path": value})
    if len(matches) > 1:
        raise AreaPathError(
            _("Area code %(code)s is used more than once: write its full path.") % {"code": value}
        )
    return matches[0]


@transaction.atomic
def do_ensure_area_path(actor, path: str, names: dict[str, str] | None = None) -> Area:
    """Return the area at ``path``, creating it and any missing parent on the way."""
    codes = [c for c in path.strip().strip("/").split("/") if c]
    if not codes:
        raise AreaPathError(_("An area path cannot be empty."))
    parent: Area | None = None
    for depth, code in enumerate(codes):
        full = "/".join(codes[: depth + 1])
        area = Area.objects.filter(path=full).first()
        if area is None:
            area = Area.objects.create(
                code=code,
                name=(names or {}).get(full, code),
                parent=parent,
                path=full,
                depth=depth,
            )
            audit.record(actor, "area.create", area, detail={"path": full})
        parent = area
    assert parent is not None  # codes is not empty, so the loop ran
    return parent


@transaction.atomic
def do_save_site(actor, *, code: str, name: str, area: Area, kind: str) -> tuple[Site, bool]:
    """Create the site ``code`` or update its name, area and kind. Returns (site, created)."""
    site = Site.objects.filter(code=code).first()
    created = site is None
    if site is None:
        site = Site.objects.create(
            code=code, name=name, area=area, kind=kind, feedback_key=secrets.token_urlsafe(16)
        )
    else:
        site.name, site.area, site.kind = name, area, kind
        site.save(update_fields=["name", "area", "kind"])
    audit.record(actor, "site.create" if created else "site.update", site, site=site)
    return site, created


def generate_password() -> str:
    return secrets.token_urlsafe(12)


@transaction.atomic
def do_create_user(actor, *, username: str, role: str, sites: list[Site], password: str) -> User:
    """Create a staff member with ``role`` at ``sites``; the password is hashed with Argon2."""
    if role not in Role.values:
        raise ValueError(_("Unknown role %(role)s.") % {"role": role})
    user = User(username=username, role=role, is_staff=(role == Role.ADMIN), is_superuser=(role == Role.ADMIN))
    user.set_password(password)
    user.save()
    user.sites.set(sites)
    audit.record(actor, "user.create", user, detail={"role": role, "sites": [s.code for s in sites]})
    return user


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def do_create_api_token(actor, user: User, name: str) -> tuple[ApiToken, str]:
    """Create an API token for ``user``. Returns the row and the token, which is shown once."""
    token = "sal_" + secrets.token_urlsafe(32)
    row = ApiToken.objects.create(user=user, name=name, prefix=token[:10], token_hash=hash_token(token))
    audit.record(actor, "token.create", row, detail={"user": user.username})
    return row, token


@transaction.atomic
def do_revoke_api_token(actor, token: ApiToken) -> None:
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit.record(actor, "token.revoke", token, detail={"user": token.user.username})


def user_for_token(token: str) -> User | None:
    """The active user behind a bearer token, or None. Records when the token was last used."""
    now = timezone.now()
    # Plain SQL (salus.core.plainsql): every API request runs it. The token's last use is
    # written at most once a minute per token; the query says whether it is due.
    read = plainsql.reader(User, "u")
    token_col, user_col = (lambda f: plainsql.column(ApiToken, f)), (lambda f: plainsql.column(User, f))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {read.columns}, t.{token_col('id')}, "
            f"CASE WHEN t.{token_col('last_used_at')} IS NULL OR t.{token_col('last_used_at')} < %s "
            f"THEN 1 ELSE 0 END "
            f"FROM {plainsql.table(ApiToken)} t JOIN {plainsql.table(User)} u ON u.{user_col('id')} = t.{token_col('user')} "
            f"WHERE t.{token_col('token_hash')} = %s AND t.{token_col('revoked_at')} IS NULL "
            f"AND u.{user_col('is_active')} = %s",
            [
                connection.ops.adapt_datetimefield_value(now - dt.timedelta(seconds=60)),
                hash_token(token),
                True,
            ],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    user = read.instance(row)
    token_id, due = row[read.width], row[read.width + 1]
    if due:
        ApiToken.objects.filter(pk=token_id).update(last_used_at=now)
    return user
