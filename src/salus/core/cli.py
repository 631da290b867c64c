"""Core sub-commands: init, demo, serve, user, token, audit."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

DEMO_HOST = "127.0.0.1"
DEMO_PORT = 8000


def register(reg) -> None:
    p = reg.top.add_parser("init", help="Create or migrate the database and the program's keys (idempotent)")
    p.set_defaults(func=cmd_init)

    p = reg.top.add_parser("demo", help="Load a synthetic demo program and serve the web app")
    p.add_argument("--host", default=DEMO_HOST)
    p.add_argument("--port", type=int, default=DEMO_PORT)
    p.add_argument("--no-serve", action="store_true", help="Load the demo data and print the log-ins, then stop")
    p.add_argument("--reset", action="store_true", help="Delete the existing demo database first")
    p.set_defaults(func=cmd_demo)

    p = reg.top.add_parser("serve", help="Serve the web app and API with a production server (gunicorn)")
    p.add_argument("--host", default=DEMO_HOST)
    p.add_argument("--port", type=int, default=DEMO_PORT)
    p.add_argument("--workers", type=int, default=int(os.environ.get("SALUS_WORKERS", "3")))
    p.add_argument("--threads", type=int, default=int(os.environ.get("SALUS_THREADS", "4")))
    p.set_defaults(func=cmd_serve)

    user = reg.top.add_parser("user", help="Manage staff accounts")
    us = user.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = us.add_parser("add", help="Add a staff member; the password is read from stdin or generated")
    p.add_argument("name")
    p.add_argument("--role", required=True, choices=["worker", "coordinator", "clinician", "manager", "analyst", "admin"])
    p.add_argument("--site", nargs="*", default=[], metavar="CODE", help="Site code(s) the user works at")
    p.set_defaults(func=cmd_user_add)

    token = reg.top.add_parser("token", help="Manage API tokens")
    ts = token.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = ts.add_parser("create", help="Create an API token for a user and print it once")
    p.add_argument("name", help="The user's log-in name")
    p.add_argument("--label", default="cli", help="A name for the token")
    p.set_defaults(func=cmd_token_create)
    p = ts.add_parser("revoke", help="Revoke every API token of a user")
    p.add_argument("name")
    p.set_defaults(func=cmd_token_revoke)

    audit_p = reg.top.add_parser("audit", help="The audit log")
    aus = audit_p.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = aus.add_parser("verify", help="Check the audit log's hash chain")
    p.set_defaults(func=cmd_audit_verify)


def cmd_init(args: argparse.Namespace) -> int:
    from django.core.management import call_command

    from salus.core.keys import ensure_keys

    created = ensure_keys()
    call_command("migrate", interactive=False, verbosity=0)
    from salus.core.keys import uic_key_path

    for path in created:
        # What is lost with each file: the operator backs it up knowing why.
        lost = ("no identifier code can be matched to its client again" if path == str(uic_key_path())
                else "no encrypted field (results, notes, details) can be read again")
        print(f"created key file {path}: back it up with the data directory; without it {lost}")
    from django.conf import settings

    print(f"database ready; data directory {settings.SALUS_HOME}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from django.conf import settings

    if not settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        print("salus demo runs on the embedded SQLite database; unset DATABASE_URL", file=sys.stderr)
        return 2
    db_path = settings.DATABASES["default"]["NAME"]
    if args.reset:
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db_path + suffix):
                os.remove(db_path + suffix)
    cmd_init(args)
    from salus.transfer.demo import load_demo

    logins = load_demo()
    print()
    print("SYNTHETIC DEMO PROGRAM: every client, contact and figure here is made up.")
    if logins:
        print("Log-ins (one per role; shown once, also saved in", os.path.join(settings.SALUS_HOME, "demo-logins.txt") + "):")
        for role, username, password in logins:
            print(f"  {role:<12} {username:<18} {password}")
    else:
        print("Demo data already loaded; log-ins are in", os.path.join(settings.SALUS_HOME, "demo-logins.txt"))
    if args.no_serve:
        return 0
    args.workers, args.threads = 2, 4
    return cmd_serve(args)


def cmd_serve(args: argparse.Namespace) -> int:
    import gc

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections
    from gunicorn.app.base import BaseApplication

    from salus.core.keyvault import VaultError, unlock_for_serving

    try:
        # Protected keys: ask for the passphrase now, before any worker starts.
        unlock_for_serving()
    except VaultError as exc:
        print(f"cannot start: {exc}", file=sys.stderr)
        return 2
    if not settings.DEBUG and not settings.STORAGES["staticfiles"]["BACKEND"].startswith("django."):
        call_command("collectstatic", interactive=False, verbosity=0)
    from salus.indicators.sources import remove_stale_spill_directories

    # What a computation killed half-way left on disk (client ids, positive ciphertexts).
    remove_stale_spill_directories()
    from salus.core.kept import forget_all

    # Counts kept by a previous run (settings.CACHES): not needed, and not to be left lying.
    forget_all()
    # Loaded after collectstatic, so WhiteNoise finds the static directory it serves from.
    from salus.wsgi import application

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{args.host}:{args.port}")
            self.cfg.set("workers", args.workers)
            self.cfg.set("threads", args.threads)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("timeout", 60)
            self.cfg.set("graceful_timeout", 10)
            # Access logs would hold query strings (a raw UIC in a search); keep them off.
            self.cfg.set("accesslog", None)
            self.cfg.set("errorlog", "-")
            # One request per connection, and a worker takes a connection only when one of its
            # threads is free: requests then wait in the kernel's queue for whichever worker
            # frees up first. A kept-alive connection stays with the worker that accepted it,
            # however busy (docs/decisions/0004); a reverse proxy in front does not keep
            # connections to gunicorn alive by default either.
            self.cfg.set("keepalive", 0)
            self.cfg.set("worker_connections", args.threads)

        def load(self):
            return application

    # Workers are forked from this process: none may inherit an open database connection.
    connections.close_all()
    # Everything loaded so far lives as long as the server. Frozen, the collector no longer walks
    # it on every full collection (a pause of tens of ms every few hundred requests).
    gc.collect()
    gc.freeze()
    print(f"Salus is serving on http://{args.host}:{args.port}/ (Ctrl-C to stop)", flush=True)
    Server().run()
    return 0


def _site_list(codes):
    from salus.core.models import Site

    found = list(Site.objects.filter(code__in=codes))
    missing = sorted(set(codes) - {s.code for s in found})
    if missing:
        raise SystemExit(f"unknown site code(s): {', '.join(missing)}")
    return found


def cmd_user_add(args: argparse.Namespace) -> int:
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    from salus.core.actions import do_create_user, generate_password
    from salus.core.models import User

    if User.objects.filter(username=args.name).exists():
        print(f"a user named {args.name} already exists", file=sys.stderr)
        return 1
    sites = _site_list(args.site)
    if args.role in ("worker", "coordinator", "clinician") and not sites:
        print(f"a {args.role} needs at least one --site", file=sys.stderr)
        return 2
    generated = False
    if sys.stdin.isatty():
        password = getpass.getpass("Password (empty to generate one): ")
    else:
        password = sys.stdin.readline().rstrip("\n")
    if not password:
        password, generated = generate_password(), True
    try:
        validate_password(password)
    except ValidationError as exc:
        print("; ".join(exc.messages), file=sys.stderr)
        return 2
    do_create_user("cli", username=args.name, role=args.role, sites=sites, password=password)
    print(f"created {args.role} {args.name}" + (f" at {', '.join(s.code for s in sites)}" if sites else ""))
    if generated:
        print(f"password (shown once): {password}")
    return 0


def cmd_token_create(args: argparse.Namespace) -> int:
    from salus.core.actions import do_create_api_token
    from salus.core.models import User

    user = User.objects.filter(username=args.name, is_active=True).first()
    if user is None:
        print(f"no active user named {args.name}", file=sys.stderr)
        return 1
    _row, token = do_create_api_token("cli", user, args.label)
    print(token)
    return 0


def cmd_token_revoke(args: argparse.Namespace) -> int:
    from salus.core.actions import do_revoke_api_token
    from salus.core.models import ApiToken

    n = 0
    for t in ApiToken.objects.filter(user__username=args.name, revoked_at__isnull=True):
        do_revoke_api_token("cli", t)
        n += 1
    print(f"revoked {n} token(s)")
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from django.db import connection

    from salus.core import audit, auditseal

    result = audit.verify()
    if result.ok:
        print(f"audit log intact: {result.checked} events, hash chain verified")
        if not auditseal.installed(connection):
            print("WARNING: the database no longer refuses changes to the audit log (append-only "
                  "triggers missing); run 'salus init' to put them back", file=sys.stderr)
            return 1
        return 0
    where = f" at event {result.first_bad_seq}" if result.first_bad_seq else ""
    print(f"AUDIT LOG DAMAGED{where}: {result.reason} ({result.checked} events read)", file=sys.stderr)
    return 1
