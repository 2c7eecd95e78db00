from datetime import datetime

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja import Status as Reply

from linli.accounts import actions
from linli.accounts.models import Grant, User
from linli.core.api import Error, responses

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


# No NUL characters, as Django's forms refuse them (PostgreSQL cannot store them): a 422.
NO_NUL = r"^[^\x00]*$"


class TokenIn(Schema):
    login: str = Field(max_length=150, pattern=NO_NUL, description="Mobile number or username")
    password: str = Field(max_length=1024, pattern=NO_NUL)
    name: str = Field(
        min_length=1, max_length=100, pattern=NO_NUL, description="What the token is for"
    )
    days: int = Field(365, ge=1, le=3650, description="How many days it is valid")


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    token: str = Field(description="The secret, shown this once: Linli keeps only its digest")
    expires_at: datetime | None


@router.post(
    "/tokens",
    auth=None,
    response=responses({201: TokenOut}, 400, 422, 429),
    summary="Create an API token with a login and password",
    description=(
        "Under the same lockout as every login: a wrong login or password is a 401, and while "
        "the account or the client's address is locked out (too many failures) every request, "
        "even with the right password, is a 429 with Retry-After."
    ),
)
def create_token(request: HttpRequest, payload: TokenIn) -> Reply[TokenOut | Error]:
    user = actions.authenticate_throttled(request, payload.login, payload.password, entrance="api")
    if user is None:
        return Reply(401, Error(detail=_("The mobile number/username or password is wrong.")))
    token, secret = actions.issue_token(user, user, payload.name, payload.days)
    return Reply(
        201,
        TokenOut(
            id=token.pk,
            name=token.name,
            prefix=token.prefix,
            token=secret,
            expires_at=token.expires_at,
        ),
    )
