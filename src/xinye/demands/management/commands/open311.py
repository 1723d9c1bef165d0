"""`xinye open311 key create --user USERNAME --name NAME`, `xinye open311 key list`, `xinye open311 key revoke ID`.

A key acts as its user: an Open311 client sees through it what that user may see, and the demands it
submits are entered by that user. The key is printed once; only its SHA-256 is stored.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from xinye.common.commands import run_or_fail
from xinye.demands import open311


class Command(BaseCommand):
    help = "Open311 GeoReport v2: API keys for 311 clients and dashboards."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="resource", required=True)
        key = sub.add_parser("key", help="API keys")
        actions = key.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="create a key for a user and print it (once)")
        create.add_argument("--user", required=True, help="user name: the key sees and submits as this user")
        create.add_argument("--name", required=True, help="who or what uses the key, e.g. 'district 311 app'")
        actions.add_parser("list", help="list the keys (never the keys themselves)")
        revoke = actions.add_parser("revoke", help="revoke a key for good")
        revoke.add_argument("id", type=int, help="the key's id (see `key list`)")

    def handle(self, *args, resource, action, **options):
        getattr(self, f"handle_{resource}_{action}")(**options)

    def handle_key_create(self, *, user, name, **_):
        User = get_user_model()
        found = User.objects.filter(**{User.USERNAME_FIELD: user}).first()
        if found is None:
            raise CommandError(f"--user {user!r}: there is no such user")
        if not found.is_active:
            raise CommandError(f"--user {user!r}: the user is not active")
        record, key = run_or_fail(open311.api_key_create, user=found, name=name)
        self.stdout.write(f"API key {record.pk} ({record.name}) for {user}:")
        self.stdout.write(key)
        self.stdout.write("Keep it now: only its SHA-256 is stored, it cannot be shown again.")

    def handle_key_list(self, **_):
        rows = list(open311.api_key_list())
        if not rows:
            self.stdout.write("no API keys")
            return
        self.stdout.write(f"{'id':>4}  {'state':<8} {'created':<16} {'user':<20} name")
        for k in rows:
            username = getattr(k.user, get_user_model().USERNAME_FIELD)
            state = "active" if k.active else "revoked"
            created = timezone.localtime(k.created_at).strftime("%Y-%m-%d %H:%M")
            self.stdout.write(f"{k.pk:>4}  {state:<8} {created:<16} {username:<20} {k.name}")

    def handle_key_revoke(self, *, id, **_):
        record = run_or_fail(open311.api_key_revoke, key_id=id)
        self.stdout.write(f"API key {record.pk} ({record.name}) revoked")
