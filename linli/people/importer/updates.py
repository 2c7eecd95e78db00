"""The writer's part that updates residents already there: their fields, ties, tags and history."""

from __future__ import annotations

import copy
import datetime
from collections import defaultdict
from typing import Any

from django.db import connection

from linli.accounts.models import User
from linli.core import bulk
from linli.core.crypto import keyring
from linli.people.actions import apply_clean
from linli.people.importer.places import PlaceRef
from linli.people.importer.results import ImportResult
from linli.people.importer.rows import Prepared
from linli.people.importer.tables import MEMBERSHIP_COLUMNS, TAG_COLUMNS, Existing, Tables, Tie
from linli.people.models import Membership, Resident, Status
from linli.people.validation import CleanResident


class Updater(Tables):
    """Changes to residents already there, collected and written in bulk with their history."""

    actor: User | None
    result: ImportResult
    today: datetime.date
    now: datetime.datetime
    now_db: Any
    date_db: Any

    def _demote_heads(self, heads: dict[int, int | None]) -> None:
        """A row names a head: whoever else heads that dwelling now steps down, first, so that the
        one-head constraint holds when the new tie is written."""
        for tie in self._ties("dwelling_id", sorted(heads)):
            if tie.is_head and heads[tie.dwelling_id] != tie.resident_id:
                m = Membership(**{**tie._asdict(), "is_head": False})
                m._history_user = self.actor  # type: ignore[attr-defined]
                m.save(update_fields=["is_head"])

    def _update(self, matched: list[tuple[Prepared, PlaceRef, Existing]]) -> None:
        """Residents already there: unchanged ones cost two look-ups; changes are collected and
        written in bulk, each changed row with its history row."""
        if not matched:
            return
        ids = [f.id for _p, _d, f in matched]
        # Plain rows: most are unchanged, and a model object costs more than the row.
        ties: dict[int, list[Tie]] = defaultdict(list)
        for tie in self._ties("resident_id", ids):
            ties[tie.resident_id].append(tie)
        current_tags: dict[int, set[int]] = defaultdict(set)
        if any(p.tags is not None for p, _d, _f in matched):
            for resident_id, tag_id in self._rows_by(
                "people_residenttag", "resident_id", ids, ("resident_id", "tag_id")
            ):
                current_tags[resident_id].add(tag_id)
        changed: dict[int, tuple[Prepared, PlaceRef]] = {}
        edited: list[Membership] = []
        joined: list[Membership] = []
        tags_added: list[tuple[Any, ...]] = []
        tags_removed: list[tuple[int, int]] = []
        for p, d, f in matched:
            touched = False
            if (
                f.name != p.name
                or f.gender != p.gender
                or f.birth_date != p.birth_date
                or f.ethnicity != p.ethnicity
                or f.phone_index != p.phone_index
                or f.residence_type != p.residence_type
                or f.home_id != d.id
                or f.status != Status.ACTIVE
            ):
                changed[f.id] = (p, d)
                touched = True
            touched |= self._tie(p, d, f, ties[f.id], edited, joined)
            if p.tags is not None:
                have, want = current_tags[f.id], set(p.tags)
                if have != want:
                    touched = True
                    tags_removed.extend((f.id, t) for t in have - want)
                    today = self.date_db(self.today)
                    tags_added.extend((f.id, t, today) for t in sorted(want - have))
            if touched:
                self.result.updated += 1
            else:
                self.result.unchanged += 1
        self._save_ties(edited, joined)
        if tags_removed:
            with connection.cursor() as cursor:
                cursor.executemany(
                    "DELETE FROM people_residenttag WHERE resident_id = %s AND tag_id = %s",
                    tags_removed,
                )
        bulk.write_rows("people_residenttag", TAG_COLUMNS, tags_added)
        if changed:
            self._save_residents(changed)

    def _tie(
        self,
        p: Prepared,
        d: PlaceRef,
        f: Existing,
        active: list[Tie],
        edited: list[Membership],
        joined: list[Membership],
    ) -> bool:
        """Make the resident's tie to the dwelling what the row says; returns whether it changed.
        Changes are only collected here (``edited``, ``joined``) and written by ``_save_ties``."""

        def changed(tie: Tie, **values: Any) -> None:
            edited.append(Membership(**{**tie._asdict(), **values}))

        touched = False
        here = next((t for t in active if t.dwelling_id == d.id), None)
        if f.home_id != d.id:
            # Moved: the tie to the old home ends today; ties to other dwellings (an owner's flat
            # elsewhere) stay.
            for tie in active:
                if tie.dwelling_id == f.home_id:
                    changed(tie, until=self.today, is_head=False)
                    touched = True
        if here is None:
            joined.append(
                Membership(
                    resident_id=f.id,
                    dwelling_id=d.id,
                    relation=p.relation,
                    is_head=p.is_head,
                    since=self.today if f.home_id not in (None, d.id) else None,
                )
            )
            return True
        if here.relation != p.relation or here.is_head != p.is_head:
            changed(here, relation=p.relation, is_head=p.is_head)
            touched = True
        return touched

    def _save_ties(self, edited: list[Membership], joined: list[Membership]) -> None:
        user = self.actor if getattr(self.actor, "is_authenticated", False) else None
        if edited:
            # Ends and head changes first: they only free places the new ties may take.
            with connection.cursor() as cursor:
                cursor.executemany(
                    "UPDATE people_membership SET relation = %s, is_head = %s, until = %s"
                    " WHERE id = %s",
                    [(m.relation, m.is_head, self.date_db(m.until), m.pk) for m in edited],
                )
            Membership.history.bulk_history_create(edited, update=True, default_user=user)
        if joined:
            ids = bulk.reserve_ids("people_membership", len(joined))
            for m, pk in zip(joined, ids, strict=True):
                m.pk = pk
            bulk.write_rows(
                "people_membership",
                ("id", *MEMBERSHIP_COLUMNS),
                [
                    (
                        m.pk,
                        m.resident_id,
                        m.dwelling_id,
                        m.relation,
                        m.is_head,
                        self.date_db(m.since),
                        None,
                    )
                    for m in joined
                ],
            )
            Membership.history.bulk_history_create(joined, default_user=user)

    def _save_residents(self, changed: dict[int, tuple[Prepared, PlaceRef]]) -> None:
        history = Resident.history.model
        user = self.actor if getattr(self.actor, "is_authenticated", False) else None
        objs = Resident.objects.in_bulk(list(changed))
        recorded = set(
            history.objects.filter(id__in=list(changed)).values_list("id", flat=True).distinct()
        )
        # Residents the import created have no history yet: record their state before this
        # change first, dated when they were created.
        before = []
        for pk, obj in objs.items():
            if pk not in recorded:
                old = copy.copy(obj)
                old._history_date = obj.created_at  # type: ignore[attr-defined]
                before.append(old)
        if before:
            Resident.history.bulk_history_create(before, default_user=None)
        rows = []
        for pk, obj in objs.items():
            p, d = changed[pk]
            apply_clean(
                obj,
                CleanResident(
                    name=p.name,
                    gender=p.gender,
                    birth_date=p.birth_date,
                    ethnicity=p.ethnicity,
                    id_type=p.id_type,
                    id_number=p.id_number or (keyring().decrypt(p.id_enc) if p.id_enc else ""),
                    phone=p.phone or (keyring().decrypt(p.phone_enc) if p.phone_enc else ""),
                    residence_type=p.residence_type,
                ),
            )
            obj.home_id = d.id
            if obj.status != Status.ACTIVE:
                obj.status, obj.status_date = Status.ACTIVE, self.today
            obj.updated_at = self.now
            # The worker already encrypted the numbers; the ORM would do it again.
            rows.append(
                (
                    obj.name,
                    obj.name_pinyin,
                    obj.name_initials,
                    obj.gender,
                    self.date_db(obj.birth_date),
                    obj.ethnicity,
                    obj.id_type,
                    p.id_enc,
                    obj.id_index,
                    p.phone_enc,
                    obj.phone_index,
                    obj.residence_type,
                    obj.home_id,
                    obj.status,
                    self.date_db(obj.status_date),
                    self.now_db,
                    pk,
                )
            )
        with connection.cursor() as cursor:
            cursor.executemany(
                "UPDATE people_resident SET name = %s, name_pinyin = %s, name_initials = %s,"
                " gender = %s, birth_date = %s, ethnicity = %s, id_type = %s, id_number = %s,"
                " id_index = %s, phone = %s, phone_index = %s, residence_type = %s,"
                " home_id = %s, status = %s, status_date = %s, updated_at = %s WHERE id = %s",
                rows,
            )
        Resident.history.bulk_history_create(
            list(objs.values()),
            update=True,
            default_user=user,
            default_change_reason="roster import",
        )
