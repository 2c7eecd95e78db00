"""``linli token create USERNAME --name NAME [--days N]`` / ``linli token revoke PREFIX``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from linli.accounts import actions
from linli.accounts.models import ApiToken, User


class Command(BaseCommand):
    help = "Issue or revoke API tokens."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        create = sub.add_parser("create", help="Issue a token; it is printed once.")
        create.add_argument("username")
        create.add_argument("--name", required=True, help="What the token is for.")
        create.add_argument("--days", type=int, default=365, help="0 for no expiry.")
        revoke = sub.add_parser("revoke", help="Revoke a token by the prefix shown in listings.")
        revoke.add_argument("prefix")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["verb"] == "create":
            user = User.objects.filter(username=options["username"]).first()
            if user is None:
                raise CommandError(f"No user named {options['username']!r}.")
            try:
                _token, secret = actions.issue_token(
                    None, user, options["name"], options["days"] or None
                )
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
            self.stdout.write(secret)
            return
        tokens = list(ApiToken.objects.filter(prefix=options["prefix"], revoked_at__isnull=True))
        if len(tokens) != 1:
            raise CommandError(
                f"{len(tokens)} active tokens have the prefix {options['prefix']!r}."
            )
        actions.revoke_token(None, tokens[0])
        self.stdout.write(f"Revoked {tokens[0]}.")
