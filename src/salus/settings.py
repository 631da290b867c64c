"""Django settings for Salus, read from the environment.

Everything Salus stores lives under one data directory, ``$SALUS_HOME`` (default ``./salus-data``):
the SQLite database, the keys, backups. Secrets never live in code or in the database.

Environment variables (all optional; documented in docs/operator.md):

- ``SALUS_HOME``: the data directory.
- ``DATABASE_URL``: ``postgres://user:pass@host:5432/name`` switches to PostgreSQL; default SQLite.
- ``SALUS_DEBUG``: ``True`` or ``False`` (default ``False``).
- ``SALUS_ALLOWED_HOSTS``: comma-separated host names (default ``127.0.0.1,localhost``).
- ``SALUS_HTTPS``: ``True`` when served behind HTTPS; turns on secure cookies and HSTS.
- ``SALUS_SECRET_KEY`` / ``SALUS_SECRET_KEY_FILE``: Django's signing key; default a file in SALUS_HOME.
- ``SALUS_SESSION_IDLE_MINUTES``: log out after this much inactivity (default 15).
- ``SALUS_PROCESSES``: how many cores one suppressed page may take (salus.core.spread; default all).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent


def envbool(name: str, default: str = "False") -> bool:
    """Return the boolean environment variable ``name``; anything but True/False is an error."""
    value = os.environ.get(name, default)
    if value not in ("True", "False"):
        raise ValueError(f"{name} must be True or False, not {value!r}")
    return value == "True"


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value in (None, "") else int(value)


SALUS_HOME = Path(os.environ.get("SALUS_HOME", "salus-data")).resolve()


def _home_secret(name: str) -> str:
    """Read the secret ``name`` from SALUS_HOME, creating it (owner-only) on first use."""
    SALUS_HOME.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = SALUS_HOME / name
    if not path.exists():
        # Written whole under another name, then linked into place: two processes starting on
        # a new data directory at once both get the first one's secret, never a half-written
        # file or an error.
        fd, written = tempfile.mkstemp(dir=SALUS_HOME, prefix=f".{name}-")  # owner-only
        try:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(50))
            with contextlib.suppress(FileExistsError):
                os.link(written, path)
        finally:
            os.unlink(written)
    return path.read_text().strip()


def _secret_key() -> str:
    if os.environ.get("SALUS_SECRET_KEY"):
        return os.environ["SALUS_SECRET_KEY"]
    if os.environ.get("SALUS_SECRET_KEY_FILE"):
        return Path(os.environ["SALUS_SECRET_KEY_FILE"]).read_text().strip()
    return _home_secret("django-secret-key")


SECRET_KEY = _secret_key()
DEBUG = envbool("SALUS_DEBUG")
HTTPS = envbool("SALUS_HTTPS")
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("SALUS_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()]
# Django's test client uses "testserver".
if os.environ.get("SALUS_TESTING") == "True":
    ALLOWED_HOSTS.append("testserver")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "salus.core",
    "salus.clients",
    "salus.services",
    "salus.stock",
    "salus.transfer",
    "salus.indicators",
    "salus.reports",
    "salus.care",
    "salus.model",
    "salus.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "salus.core.l10n.LocalDigitsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "salus.core.middleware.SecurityHeadersMiddleware",
    "salus.core.middleware.IdleTimeoutMiddleware",
    "salus.core.auth.RequireAdminTOTPMiddleware",
]

ROOT_URLCONF = "salus.urls"
WSGI_APPLICATION = "salus.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "salus.web.context.salus_context",
            ],
        },
    },
]


def _databases() -> dict:
    url = os.environ.get("DATABASE_URL", "")
    if url:
        # Connections persist, as on SQLite: a new one costs a server process and the
        # statements it had prepared. The health check replaces one that broke (a restart).
        db = dj_database_url.parse(url, conn_max_age=None, conn_health_checks=True)
        if db["ENGINE"] == "django.db.backends.postgresql":
            # Django's backend, chaining audit events at commit (salus.core.backends.chain).
            db["ENGINE"] = "salus.core.backends.postgresql"
            # Parameters sent apart from the SQL, and each connection preparing the statements
            # it runs often: about 30 % less CPU per contact, in the server and in PostgreSQL
            # (docs/decisions/0005). A pooler in transaction mode that cannot keep prepared
            # statements (PgBouncer before 1.21) needs SALUS_PG_PREPARED=False.
            db.setdefault("OPTIONS", {}).update(
                server_side_binding=True,
                prepare_threshold=5 if envbool("SALUS_PG_PREPARED", "True") else None,
            )
        return {"default": db}
    return {
        "default": {
            # Django's SQLite backend with writers queued on a file lock (salus.core.backends.sqlite3).
            "ENGINE": "salus.core.backends.sqlite3",
            "NAME": str(SALUS_HOME / "salus.sqlite3"),
            # Keep each server thread's connection: opening one runs the PRAGMAs below and
            # closing the last one checkpoints the WAL, several ms of CPU per request
            # (docs/decisions/0004). The development server still closes them per request.
            "CONN_MAX_AGE": None,
            "OPTIONS": {
                # WAL lets readers go on while one writer writes; synchronous=FULL makes every
                # acknowledged commit survive a power cut, not only a crashed process.
                # IMMEDIATE takes the write lock at BEGIN so two writers queue instead of
                # deadlocking on a lock upgrade.
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                    "PRAGMA busy_timeout=20000;"
                ),
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }


DATABASES = _databases()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"
# Password check plus lockout after repeated failures (salus.core.auth).
AUTHENTICATION_BACKENDS = ["salus.core.auth.LockoutBackend"]

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "web-login"
LOGIN_REDIRECT_URL = "web-home"
LOGOUT_REDIRECT_URL = "web-login"

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("ar", "العربية"),
    ("fa", "فارسی"),
    ("ru", "Русский"),
    ("zh-hans", "简体中文"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"
# The program's own time zone: periods and "today" are counted in it (see salus.core.config).
SALUS_PROGRAM_TZ = os.environ.get("SALUS_PROGRAM_TZ", "UTC")

STATIC_URL = "/static/"
STATIC_ROOT = SALUS_HOME / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if os.environ.get("SALUS_TESTING") == "True":
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
WHITENOISE_USE_FINDERS = True

# Answers the web app keeps for a few minutes (salus.core.kept: suppressed pages, monthly
# trends; only counts, never a client's record), in files of the data directory, so that the
# server's worker processes share them: a national program's suppressed page takes tens of
# seconds to work out, and each process working it out again would cost that much more. The
# directory is the owner's only; `salus serve` empties it when it starts. Past MAX_ENTRIES
# files (a national program's page keeps about 215, 1.8 MB) a third of them go, chosen at
# random; Django lists the directory at every write, so many more would slow each one.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(SALUS_HOME / "cache"),
        "OPTIONS": {"MAX_ENTRIES": 2000},
    }
}

# Sessions: short-lived, server-side, cleared on browser close.
SESSION_COOKIE_AGE = 8 * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SALUS_SESSION_IDLE_MINUTES = envint("SALUS_SESSION_IDLE_MINUTES", 15)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS and not envbool("SALUS_BEHIND_PROXY_NO_REDIRECT")
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
# "same-origin": nothing is sent to other sites, while same-site form posts keep an Origin
# header that Django's CSRF check accepts ("no-referrer" makes Chromium send "Origin: null").
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("SALUS_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    # Request logs would carry query strings (a raw UIC in ?uic=); Salus never logs them.
    "loggers": {
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "salus": {"handlers": ["console"], "level": os.environ.get("SALUS_LOG_LEVEL", "WARNING")},
    },
}
