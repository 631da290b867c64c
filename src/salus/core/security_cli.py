"""Security sub-commands: keys, backup and restore, retention, account recovery.

- ``salus keys status|rotate|protect|unprotect``
- ``salus backup FILE`` / ``salus restore FILE`` / ``salus backup-verify FILE``
- ``salus purge --older-than YEARS`` / ``salus forget-client --client UUID --user ADMIN``
- ``salus security unlock NAME`` / ``salus security reset-2fa NAME``
"""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path


def register(reg) -> None:
    keys_p = reg.top.add_parser("keys", help="The program's encryption keys: status, rotation, passphrase protection")
    ks = keys_p.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = ks.add_parser("status", help="Show where the keys are, whether they are protected, and the active field key")
    p.set_defaults(func=cmd_keys_status)
    p = ks.add_parser("rotate", help="Make a new field key, re-encrypt every sensitive value, then drop the old key (stop the server first)")
    p.add_argument("--batch", type=int, default=500, help="Rows per transaction (default 500)")
    p.add_argument("--resume", action="store_true", help="Finish an interrupted rotation without making another key")
    p.set_defaults(func=cmd_keys_rotate)
    p = ks.add_parser("protect", help="Wrap the key files with a passphrase (asked twice, or the first line of stdin)")
    p.set_defaults(func=cmd_keys_protect)
    p = ks.add_parser("unprotect", help="Store the key files without a passphrase again")
    p.set_defaults(func=cmd_keys_unprotect)

    for name, helptext, func in (
        ("backup", "Write an encrypted backup of the database and keys to FILE", cmd_backup),
        ("restore", "Restore an encrypted backup into an empty data directory", cmd_restore),
        ("backup-verify", "Open a backup completely and check it, without restoring", cmd_backup_verify),
    ):
        p = reg.top.add_parser(name, help=helptext)
        p.add_argument("file", type=Path)
        p.add_argument(
            "--key-file", type=Path, default=os.environ.get("SALUS_BACKUP_KEY_FILE") or None,
            help="Use this backup key file instead of a passphrase (or SALUS_BACKUP_KEY_FILE)",
        )
        if name == "backup":
            p.add_argument("--new-key", action="store_true", help="Create the --key-file first if it does not exist")
        p.set_defaults(func=func)

    p = reg.top.add_parser("purge", help="Delete individual records past the retention period, keeping monthly aggregates")
    p.add_argument("--older-than", type=int, default=None, metavar="YEARS", help="Default: retention_years from the program configuration")
    p.add_argument("--dry-run", action="store_true", help="Only say what would be deleted")
    p.add_argument("--yes", action="store_true", help="Do not ask for confirmation")
    p.set_defaults(func=cmd_purge)

    p = reg.top.add_parser("forget-client", help="Erase every record of one client on their request (administrator)")
    p.add_argument("--client", required=True, help="The client's record id (UUID)")
    p.add_argument("--user", required=True, help="Log-in name of the administrator doing it")
    p.add_argument("--yes", action="store_true", help="Do not ask for confirmation")
    p.set_defaults(func=cmd_forget_client)

    sec = reg.top.add_parser("security", help="Account recovery: unlock an account, reset a second factor")
    ss = sec.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = ss.add_parser("unlock", help="Lift a lockout after too many failed log-ins")
    p.add_argument("name")
    p.set_defaults(func=cmd_unlock)
    p = ss.add_parser("reset-2fa", help="Remove a user's second factor (lost phone); they set it up again at next log-in")
    p.add_argument("name")
    p.set_defaults(func=cmd_reset_2fa)


def _err(message: str, code: int = 1) -> int:
    print(message, file=sys.stderr)
    return code


def _read_secret(prompt: str, *, confirm: bool = False, env: str | None = None) -> str:
    """A secret from the file named by ``env``, the terminal (asked twice if ``confirm``), or the
    first line of stdin."""
    if env and os.environ.get(env):
        return Path(os.environ[env]).read_text().rstrip("\r\n")
    if sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if confirm and getpass.getpass("Again: ") != first:
            raise SystemExit("the two entries differ; nothing was changed")
        return first
    return sys.stdin.readline().rstrip("\r\n")


# --- keys -------------------------------------------------------------------------------------


def cmd_keys_status(args) -> int:
    from salus.core import keys, keyvault

    for path, kind in keyvault.key_files():
        state = "missing" if not path.exists() else ("protected by a passphrase" if keyvault.is_wrapped(path.read_bytes()) else "plain")
        print(f"{kind:<14} {path}  ({state})")
    try:
        ring = keys.field_keyring()
    except (keyvault.VaultError, keys.KeyError_) as exc:
        return _err(f"cannot open the field keys: {exc}")
    print(f"active field key {ring.active}; {len(ring.keys)} key(s) in the ring")
    return 0


def cmd_keys_rotate(args) -> int:
    from salus.core import keyvault

    try:
        counts = keyvault.do_rotate_field_keys(
            "cli", batch_size=args.batch, resume=args.resume,
            progress=lambda table, n: print(f"  {table}: {n} value(s) re-encrypted", flush=True),
        )
    except keyvault.VaultError as exc:
        return _err(f"rotation not finished: {exc}; run 'salus keys rotate --resume'")
    total = sum(counts.values())
    print(f"rotated: {total} value(s) re-encrypted with the new key; the old key was removed")
    print("back up the data directory now: older backups need the old key file they contain")
    return 0


def cmd_keys_protect(args) -> int:
    from salus.core import keyvault

    if keyvault.any_wrapped() and keyvault.passphrase() is None:
        keyvault.set_passphrase(_read_secret("Current key passphrase: ", env="SALUS_KEY_PASSPHRASE_FILE"))
    secret = _read_secret("New key passphrase: ", confirm=True)
    try:
        done = keyvault.protect(secret)
    except keyvault.VaultError as exc:
        return _err(str(exc), 2)
    for path in done:
        print(f"protected {path}")
    print("the server now needs the passphrase at start-up ('salus serve' asks; or SALUS_KEY_PASSPHRASE_FILE)")
    print("without the passphrase the data cannot be read: keep it where two trusted people can find it")
    return 0


def cmd_keys_unprotect(args) -> int:
    from salus.core import keyvault

    if not keyvault.any_wrapped():
        print("the key files are not protected; nothing to do")
        return 0
    if keyvault.passphrase() is None:
        keyvault.set_passphrase(_read_secret("Key passphrase: ", env="SALUS_KEY_PASSPHRASE_FILE"))
    try:
        done = keyvault.unprotect()
    except keyvault.VaultError as exc:
        return _err(str(exc), 2)
    for path in done:
        print(f"stored without passphrase: {path}")
    return 0


# --- backup -----------------------------------------------------------------------------------


def _key_source(args, *, making: bool):
    from salus.core import backup

    if args.key_file:
        if making and getattr(args, "new_key", False) and not args.key_file.exists():
            backup.create_backup_key(args.key_file)
            print(f"created backup key {args.key_file}: keep a copy away from the server", file=sys.stderr)
        return backup.KeySource(key=backup.read_backup_key(args.key_file))
    secret = _read_secret("Backup passphrase: ", confirm=making and sys.stdin.isatty(), env="SALUS_BACKUP_PASSPHRASE_FILE")
    if not secret:
        raise SystemExit("no backup passphrase given (stdin, SALUS_BACKUP_PASSPHRASE_FILE) and no --key-file")
    return backup.KeySource(passphrase=secret)


def cmd_backup(args) -> int:
    from salus.core import audit, backup

    try:
        manifest = backup.make_backup(args.file, _key_source(args, making=True))
    except backup.BackupError as exc:
        return _err(f"backup failed: {exc}", 2)
    size = args.file.stat().st_size
    audit.record("cli", "backup.create", object_type="backup", detail={"database": manifest["database"], "bytes": size})
    print(f"backup written to {args.file} ({size} bytes, database: {manifest['database']})")
    return 0


def cmd_backup_verify(args) -> int:
    from salus.core import backup

    try:
        manifest = backup.verify_backup(args.file, _key_source(args, making=False))
    except backup.BackupError as exc:
        return _err(f"BACKUP NOT USABLE: {exc}", 1)
    print(f"backup intact: made {manifest['created_at']}, database {manifest['database']}, {len(manifest['files'])} file(s) checked")
    return 0


def cmd_restore(args) -> int:
    from salus.core import audit, backup

    try:
        manifest = backup.restore_backup(args.file, _key_source(args, making=False))
    except backup.BackupError as exc:
        return _err(f"restore refused: {exc}", 2)
    from django.core.management import call_command

    # A backup from an older version is brought up to date, as 'salus init' would.
    call_command("migrate", interactive=False, verbosity=0)
    audit.record("cli", "backup.restore", object_type="backup", detail={"made": manifest["created_at"], "database": manifest["database"]})
    print(f"restored the backup made {manifest['created_at']}; run 'salus audit verify' to check the audit log")
    return 0


# --- retention --------------------------------------------------------------------------------


def _confirm(question: str, yes: bool) -> bool:
    if yes:
        return True
    if not sys.stdin.isatty():
        print("add --yes to confirm when not at a terminal", file=sys.stderr)
        return False
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def cmd_purge(args) -> int:
    from salus.core import retention
    from salus.core.config import program_config

    years = args.older_than if args.older_than is not None else program_config().retention_years
    preview = retention.do_purge("cli", years=years, dry_run=True)
    print(f"records dated before {preview['cutoff']}: " + ", ".join(f"{k} {v}" for k, v in preview["would_delete"].items()))
    if args.dry_run:
        return 0
    if not _confirm("Keep their monthly aggregates and delete these records?", args.yes):
        return 1
    result = retention.do_purge("cli", years=years)
    print("purged: " + ", ".join(f"{k} {v}" for k, v in result["deleted"].items()) + f"; {result['aggregates']} aggregate row(s) kept")
    return 0


def cmd_forget_client(args) -> int:
    from django.core.exceptions import ValidationError

    from salus.clients.models import Client
    from salus.core import retention
    from salus.core.models import User

    actor = User.objects.filter(username=args.user, is_active=True).first()
    if actor is None or actor.role != "admin":
        return _err("--user must be an active administrator", 2)
    try:
        client = Client.objects.filter(pk=args.client).first()
    except ValidationError:
        client = None
    if client is None:
        return _err(f"no client record {args.client}", 1)
    if not _confirm(f"Erase every record of client {client.reference}? This cannot be undone.", args.yes):
        return 1
    try:
        deleted = retention.do_forget_client(actor, client)
    except retention.ForgetError as exc:
        return _err(str(exc), 2)
    print("erased: " + ", ".join(f"{k} {v}" for k, v in sorted(deleted.items()) if v))
    print("counts were kept as anonymous 'forgotten' aggregates; backups made before today still hold the records")
    return 0


# --- accounts ---------------------------------------------------------------------------------


def _user(name):
    from salus.core.models import User

    return User.objects.filter(username=name).first()


def cmd_unlock(args) -> int:
    from salus.core import auth

    user = _user(args.name)
    if user is None:
        return _err(f"no user named {args.name}")
    auth.do_unlock("cli", user)
    print(f"{args.name} can log in again")
    return 0


def cmd_reset_2fa(args) -> int:
    from salus.core import auth

    user = _user(args.name)
    if user is None:
        return _err(f"no user named {args.name}")
    auth.do_reset_totp("cli", user)
    print(f"second factor removed for {args.name}" + ("; they must set it up at next log-in" if auth.totp_required(user) else ""))
    return 0
