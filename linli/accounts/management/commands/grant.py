"""``linli grant USERNAME ROLE (--place ID_OR_CODE | --grid CODE | --lane ID)`` and ``--revoke``.

For operators setting up the first street admins; after that, grants are managed in the admin.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from linli.accounts import actions
from linli.accounts.models import Grant, User
from linli.accounts.roles import Role
from linli.places.models import NATIONAL_CODE_KINDS, Grid, Lane, Place


class Command(BaseCommand):
    help = "Grant (or revoke) a role on a place, grid or street/lane."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("role", choices=Role.values)
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument(
            "--place", help="Place id, or the national code of a district, street or community."
        )
        target.add_argument("--grid", help="Grid code (15 digits).")
        target.add_argument("--lane", type=int, help="Street/lane id.")
        parser.add_argument("--revoke", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user named {options['username']!r}.")
        target: dict[str, Any] = {}
        if options["place"]:
            ref = options["place"]
            place = Place.objects.filter(code=ref, kind__in=NATIONAL_CODE_KINDS).first()
            if place is None and ref.isdigit() and len(ref) < 10:
                place = Place.objects.filter(pk=int(ref)).first()
            if place is None:
                raise CommandError(f"No place {ref!r}.")
            target["place"] = place
        elif options["grid"]:
            target["grid"] = Grid.objects.filter(code=options["grid"]).first()
            if target["grid"] is None:
                raise CommandError(f"No grid {options['grid']!r}.")
        else:
            target["lane"] = Lane.objects.filter(pk=options["lane"]).first()
            if target["lane"] is None:
                raise CommandError(f"No street/lane {options['lane']!r}.")
        if options["revoke"]:
            grant = Grant.objects.filter(
                user=user, role=options["role"], revoked_at=None, **target
            ).first()
            if grant is None:
                raise CommandError("No such active grant.")
            actions.revoke_grant(None, grant)
            self.stdout.write(f"Revoked {grant}.")
            return
        try:
            grant = actions.grant_role(None, user, options["role"], **target)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"Granted {grant}.")
