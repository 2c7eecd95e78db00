from django.http import HttpRequest
from ninja import Router, Schema

from linli.accounts.models import Grant, User

router = Router(tags=["accounts"])


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    phone_masked: str | None


class GrantOut(Schema):
    id: int
    role: str
    role_label: str
    target_type: str
    target_id: int
    target_name: str
    granted_at: str


class Unauthorized(Schema):
    detail: str


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return None
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 11 else "****"


@router.get("/me", response={200: MeOut, 401: Unauthorized}, summary="The current user")
def me(request: HttpRequest) -> MeOut:
    user = request.user
    assert isinstance(user, User)  # the router's auth guarantees it
    return MeOut(
        id=user.pk,
        username=user.get_username(),
        display_name=getattr(user, "display_name", ""),
        phone_masked=mask_phone(getattr(user, "phone", None)),
    )


@router.get(
    "/me/grants",
    response={200: list[GrantOut], 401: Unauthorized},
    summary="The current user's roles and where each is held",
)
def my_grants(request: HttpRequest) -> list[GrantOut]:
    user = request.user
    assert isinstance(user, User)  # the router's auth guarantees it
    grants = (
        Grant.objects.filter(user=user, revoked_at__isnull=True)
        .select_related("place", "grid", "lane")
        .order_by("role", "id")
    )
    out = []
    for g in grants:
        target = g.place or g.grid or g.lane
        assert target is not None
        out.append(
            GrantOut(
                id=g.pk,
                role=g.role,
                role_label=str(g.get_role_display()),
                target_type="place" if g.place_id else ("grid" if g.grid_id else "lane"),
                target_id=target.pk,
                target_name=str(target),
                granted_at=g.created_at.isoformat(),
            )
        )
    return out
