"""Photos with a case: checked by their first bytes (JPEG, PNG or WebP, at most 5 MB), stored
under ``var/media/cases`` by a random name, and served only through a view that checks scope."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from linli.accounts.models import User

from .models import Case, CasePhoto, PhotoKind
from .workflow import Intake, take_in

MAX_BYTES = 5 * 1024 * 1024
MAX_PER_CASE = 6


def media_root() -> Path:
    return Path(settings.MEDIA_ROOT)


def sniff(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) from the file's first bytes, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png", "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", "webp"
    return None


def check(upload: Any) -> tuple[str, str]:
    """Raises ValidationError (in the user's language) unless the upload is a photo we keep."""
    if upload.size > MAX_BYTES:
        raise ValidationError(_("A photo may be at most 5 MB."), code="size")
    upload.seek(0)
    kind = sniff(upload.read(16))
    upload.seek(0)
    if kind is None:
        raise ValidationError(_("Only JPEG, PNG or WebP photos can be added."), code="type")
    return kind


def save(case: Case, upload: Any, kind: str) -> CasePhoto:
    """Write the file, then its row. Call inside the transaction that makes the case or the step:
    if it rolls back, ``discard`` removes the file (see the callers)."""
    content_type, ext = check(upload)
    if case.photos.count() >= MAX_PER_CASE:
        raise ValidationError(_("A case has at most 6 photos."), code="count")
    name = f"cases/{case.received_at:%Y/%m}/{secrets.token_urlsafe(18)}.{ext}"
    target = media_root() / name
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    tmp = target.with_suffix(".part")
    with open(tmp, "wb") as out:
        for chunk in upload.chunks():
            digest.update(chunk)
            out.write(chunk)
    tmp.replace(target)
    return CasePhoto.objects.create(
        case=case,
        kind=kind,
        file=name,
        content_type=content_type,
        size=upload.size,
        sha256=digest.hexdigest(),
    )


def discard(photo_names: list[str]) -> None:
    for name in photo_names:
        (media_root() / name).unlink(missing_ok=True)


def path_of(photo: CasePhoto) -> Path:
    path = (media_root() / photo.file).resolve()
    if media_root().resolve() not in path.parents:
        raise ValidationError("bad photo path")
    return path


def take_in_with_photo(actor: User | None, data: Intake, photo: Any) -> Case:
    """Intake and its photo in one transaction; the file is removed if anything fails."""
    written: list[str] = []
    try:
        with transaction.atomic():
            case = take_in(actor, data)
            if photo:
                written.append(save(case, photo, PhotoKind.INTAKE).file)
    except Exception:
        discard(written)
        raise
    return case
