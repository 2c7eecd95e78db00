"""``linli open311 issue-key NAME --community CODE [--hourly-limit N]`` prints a new key once;
``linli open311 revoke-key PREFIX_OR_NAME`` stops one; ``linli open311 list-keys`` shows them."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from linli.cases import open311_keys
from linli.cases.models import Open311Client
from linli.places.models import Place, PlaceKind


class Command(BaseCommand):
    help = "Issue, revoke and list the keys of Open311 clients."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        issue = sub.add_parser("issue-key", help="Issue a key; it is printed once.")
        issue.add_argument("name", help="The program that will use the key.")
        issue.add_argument(
            "--community", required=True, help="The national code of the community it files into."
        )
        issue.add_argument("--hourly-limit", type=int, default=60, help="Cases an hour at most.")
        revoke = sub.add_parser("revoke-key", help="Revoke an active key by its prefix or name.")
        revoke.add_argument("key", help="The key's first 12 characters, or the client's name.")
        sub.add_parser("list-keys", help="List the clients and their keys' prefixes.")

    def handle(self, *args: Any, **options: Any) -> None:
        verb = options["verb"]
        if verb == "issue-key":
            self._issue(options)
        elif verb == "revoke-key":
            self._revoke(options["key"])
        else:
            for client in Open311Client.objects.select_related("community"):
                state = f"revoked {client.revoked_at:%Y-%m-%d}" if client.revoked_at else "active"
                self.stdout.write(
                    f"{client.key_prefix}  {client.name}  {client.community.code} "
                    f"{client.community.name}  {client.hourly_limit}/h  {state}"
                )

    def _issue(self, options: dict[str, Any]) -> None:
        community = Place.objects.filter(
            kind=PlaceKind.COMMUNITY, code=options["community"].strip()
        ).first()
        if community is None:
            raise CommandError(f"No community has the code {options['community']!r}.")
        try:
            _client, key = open311_keys.issue_key(
                None, options["name"], community, hourly_limit=options["hourly_limit"]
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(key)

    def _revoke(self, wanted: str) -> None:
        clients = list(
            Open311Client.objects.select_related("community").filter(
                Q(key_prefix=wanted) | Q(name=wanted), revoked_at__isnull=True
            )
        )
        if len(clients) != 1:
            raise CommandError(
                f"{len(clients)} active keys have the prefix or name {wanted!r}"
                + (": give the prefix (linli open311 list-keys)." if clients else ".")
            )
        open311_keys.revoke_key(None, clients[0])
        self.stdout.write(f"Revoked {clients[0]}.")
