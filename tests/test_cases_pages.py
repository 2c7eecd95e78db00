"""Case pages: the inbox, intake with a pasted message and a photo, the steps, the residents' QR
form and tracking page, the rates page and the QR sheet."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from linli.cases import workflow
from linli.cases.models import Case, CasePhoto, Category, Notification, State
from linli.cases.paste import guess
from linli.cases.public import CODE_GUESSES, PUBLIC_LIMIT, qr_url
from linli.core import outbox
from linli.core.models import AuditEntry
from tests.helpers.uploads import PNG, png_upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def make_case(world: Any, **kw: Any) -> Case:
    actor = kw.pop("actor", world.worker)
    data = workflow.Intake(
        channel="phone",
        category=Category.objects.get(code=kw.pop("category", "lift")),
        place=kw.pop("place", world.a.building),
        description=kw.pop("description", "电梯停运两天了"),
        **kw,
    )
    return workflow.take_in(actor, data)


def test_inbox_lists_overdue_first_and_only_in_scope(world, as_user):
    normal = make_case(world, description="楼道灯不亮", category="lighting")
    late = make_case(world, description="电梯困人")
    Case.objects.filter(pk=late.pk).update(overdue=True)
    other = make_case(
        world, place=world.b.building, description="乙社区的事", actor=world.neighbour
    )
    assert other.path.startswith(world.b.place.path)
    body = as_user(world.worker).get("/cases/").content.decode()
    assert body.index("电梯困人") < body.index("楼道灯不亮")
    assert "乙社区的事" not in body
    # The neighbouring worker sees community b's case only.
    body = as_user(world.neighbour).get("/cases/").content.decode()
    assert "乙社区的事" in body and "电梯困人" not in body
    assert normal.pk


def test_worker_from_b_cannot_have_taken_in_for_b_through_a(world):
    # make_case above takes in as the worker of a; for b it must be refused.
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        make_case(world, place=world.b.building)


def test_inbox_filters(world, as_user):
    make_case(world, description="楼道灯不亮", category="lighting")
    make_case(world, description="垃圾没人清", category="rubbish")
    repairs = Category.objects.get(code="repairs")
    body = as_user(world.worker).get(f"/cases/?category={repairs.pk}").content.decode()
    assert "楼道灯不亮" in body and "垃圾没人清" not in body
    body = as_user(world.worker).get("/cases/?state=closed").content.decode()
    assert "楼道灯不亮" not in body


def test_an_assignee_without_scope_sees_their_own_cases(world, as_user):
    case = make_case(world)
    assert as_user(world.property).get("/cases/").status_code == 404
    workflow.accept(world.worker, case.pk)
    workflow.assign(world.worker, case.pk, world.property)
    client = as_user(world.property)
    assert "电梯停运两天了" in client.get("/cases/").content.decode()
    assert client.get(f"/cases/{case.pk}/").status_code == 200
    assert client.post(f"/cases/{case.pk}/start/").status_code == 302
    assert Case.objects.get(pk=case.pk).state == State.IN_PROGRESS
    # They see the case, so the refusal is a plain 403, not a 404.
    assert client.post(f"/cases/{case.pk}/close/").status_code == 403


def test_intake_from_a_pasted_wechat_message(world, as_user):
    client = as_user(world.worker)
    text = "张阿姨：1栋楼道灯坏了一个星期了，晚上看不见，电话13812345678"
    body = client.post("/cases/new/", {"paste": "1", "text": text}).content.decode()
    lighting = Category.objects.get(code="lighting")
    assert f'<option value="{lighting.pk}" selected>' in body
    assert f'<option value="{world.a.building.pk}" selected>' in body
    assert 'value="13812345678"' in body
    assert Case.objects.count() == 0  # only filled in


def test_paste_guess_reads_building_category_and_phone(world):
    found = guess(
        "2026-03-01 10:02\n李先生: 2号楼电梯又坏了 138-1234-5678", [world.a.other_building]
    )
    assert found.building_id == world.a.other_building.pk
    assert found.category_code == "lift"
    assert found.description.startswith("李先生")
    assert guess("没有线索的一句话", []).category_code == ""


def test_intake_form_with_a_photo(world, as_user, media):
    client = as_user(world.chief)
    response = client.post(
        "/cases/new/",
        {
            "place": world.a.building.pk,
            "category": Category.objects.get(code="leak").pk,
            "channel": "reception",
            "priority": "urgent",
            "description": "302室天花板漏水",
            "reporter_name": "王伯",
            "photo": png_upload(),
        },
    )
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    assert (
        case.channel == "reception" and case.priority == "urgent" and case.created_by == world.chief
    )
    photo = CasePhoto.objects.get(case=case)
    assert (media / photo.file).read_bytes() == PNG
    served = client.get(f"/cases/{case.pk}/photo/{photo.pk}/")
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == PNG
    assert as_user(world.neighbour).get(f"/cases/{case.pk}/photo/{photo.pk}/").status_code == 404


def test_intake_refuses_a_file_that_is_not_a_photo(world, as_user, media):
    response = as_user(world.worker).post(
        "/cases/new/",
        {
            "place": world.a.building.pk,
            "category": Category.objects.get(code="leak").pk,
            "channel": "phone",
            "priority": "normal",
            "description": "漏水严重",
            "photo": SimpleUploadedFile("x.png", b"<script>alert(1)</script>", "image/png"),
        },
    )
    assert response.status_code == 200
    assert "JPEG" in response.content.decode() or "照片" in response.content.decode()
    assert Case.objects.count() == 0 and not list(media.rglob("*.*"))


def test_intake_refuses_a_place_outside_scope(world, as_user):
    response = as_user(world.chief).post(
        "/cases/new/",
        {
            "place": world.a.other_building.pk,
            "category": Category.objects.get(code="leak").pk,
            "channel": "phone",
            "priority": "normal",
            "description": "别的楼漏水",
        },
    )
    assert response.status_code == 200 and Case.objects.count() == 0


def test_steps_from_the_case_page(world, as_user):
    case = make_case(world)
    client = as_user(world.worker)
    assert client.post(f"/cases/{case.pk}/accept/").status_code == 302
    client.post(f"/cases/{case.pk}/assign/", {"assignee": world.grid_worker.pk})
    grid = as_user(world.grid_worker)
    grid.post(f"/cases/{case.pk}/resolve/", {"resolution": "已联系维保", "photo": png_upload()})
    case.refresh_from_db()
    assert case.state == State.RESOLVED and case.photos.filter(kind="resolution").count() == 1
    # A second press of "accept" is refused with a message, not an error page.
    response = client.post(f"/cases/{case.pk}/accept/", follow=True)
    assert response.status_code == 200 and "error" in response.content.decode()
    client.post(f"/cases/{case.pk}/rate/", {"rating": 4, "comment": "电话回访"})
    client.post(f"/cases/{case.pk}/close/")
    case.refresh_from_db()
    assert case.state == State.CLOSED and case.rating == 4


@pytest.mark.parametrize("action", ["accept", "reject", "assign", "comment", "merge", "escalate"])
def test_steps_are_404_for_the_outsider_and_the_neighbour(world, as_user, action):
    case = make_case(world)
    for user in (world.outsider, world.neighbour):
        response = as_user(user).post(f"/cases/{case.pk}/{action}/", {"reason": "x" * 5})
        assert response.status_code == 404
    assert Case.objects.get(pk=case.pk).state == State.RECEIVED


def test_roles_without_handling_get_404_on_steps(world, as_user):
    case = make_case(world)
    # The chief sees the case (their building) but may not handle it.
    for name in ("chief", "volunteer", "property", "party_member"):
        response = as_user(world.users[name]).post(f"/cases/{case.pk}/accept/")
        assert response.status_code in (403, 404), name
    assert Case.objects.get(pk=case.pk).state == State.RECEIVED


def test_unknown_step_is_404(world, as_user):
    case = make_case(world)
    assert as_user(world.worker).post(f"/cases/{case.pk}/explode/").status_code == 404


def test_revealing_the_reporters_number_is_audited(world, as_user):
    case = make_case(world, reporter_phone="13800138000")
    page = as_user(world.worker).get(f"/cases/{case.pk}/").content.decode()
    assert "138****8000" in page and "13800138000" not in page
    response = as_user(world.worker).post(f"/cases/{case.pk}/phone/", {"reason": "回电"})
    assert "13800138000" in response.content.decode()
    entry = AuditEntry.objects.get(action="case.reveal")
    assert entry.actor == world.worker and entry.data["reason"] == "回电"
    assert as_user(world.chief).post(f"/cases/{case.pk}/phone/", {"reason": "x"}).status_code == 404
    assert as_user(world.worker).post(f"/cases/{case.pk}/phone/", {}).status_code == 400


# --- the residents' side ----------------------------------------------------------------------


def test_a_resident_files_from_the_qr_code_and_follows_and_rates(world, client):
    url = qr_url(world.a.building)
    page = client.get(url)
    assert page.status_code == 200 and world.a.building.name in page.content.decode()
    response = client.post(
        url,
        {
            "category": Category.objects.get(code="noise").pk,
            "description": "楼上每天半夜装修",
            "reporter_phone": "13912345678",
            "anonymous": "on",
            "reporter_name": "不想留名",
            "photo": png_upload(),
        },
    )
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/r/t/{case.code}/"
    assert case.channel == "qr" and case.anonymous and case.reporter_name == ""
    assert case.created_by is None and case.photos.count() == 1
    track = client.get(f"/r/t/{case.code}/").content.decode()
    assert "13912345678" not in track and "139****5678" not in track
    assert case.code in track
    # Lower-case codes work too.
    assert client.get(f"/r/t/{case.code.lower()}/").status_code == 200
    workflow.accept(world.worker, case.pk)
    workflow.assign(world.worker, case.pk, world.grid_worker)
    workflow.resolve(world.grid_worker, case.pk, "已上门劝导")
    track = client.get(f"/r/t/{case.code}/").content.decode()
    assert "已上门劝导" in track and 'name="rating"' in track
    assert client.post(f"/r/t/{case.code}/rate/", {"rating": 5}).status_code == 302
    assert client.post(f"/r/t/{case.code}/rate/", {"rating": 1}).status_code == 302  # twice
    case.refresh_from_db()
    assert case.state == State.RATED and case.rating == 5


def test_the_qr_form_needs_a_signed_token(world, client):
    good = qr_url(world.a.building)
    token = good.rstrip("/").rsplit("/", 1)[1]
    _pk, _sep, sig = token.partition(":")
    forged = f"/r/b/{world.b.building.pk}:{sig}/"
    assert client.get(forged).status_code == 404
    assert client.get("/r/b/nonsense/").status_code == 404
    assert client.get("/r/t/NOSUCHCD/").status_code == 404
    assert client.post("/r/t/NOSUCHCD/rate/", {"rating": 5}).status_code == 404


def test_the_qr_form_is_limited_per_address(world, client):
    url = qr_url(world.a.building)
    data = {"category": Category.objects.get(code="other").pk, "description": "测试一下限制"}
    for _i in range(PUBLIC_LIMIT):
        assert client.post(url, data, REMOTE_ADDR="203.0.113.9").status_code == 302
    refused = client.post(url, data, REMOTE_ADDR="203.0.113.9")
    assert refused.status_code == 200 and Case.objects.count() == PUBLIC_LIMIT
    assert client.post(url, data, REMOTE_ADDR="203.0.113.10").status_code == 302


def test_guessing_tracking_codes_is_limited_per_address(world, client):
    """A stranger cannot walk through codes to find a case to rate: past CODE_GUESSES wrong codes
    an hour, every code from that address is refused, on the tracking page, the rating and
    Open311's tokens; the resident's own address is not affected."""
    case = make_case(world)
    workflow.accept(world.worker, case.pk)
    workflow.assign(world.worker, case.pk, world.grid_worker)
    workflow.resolve(world.grid_worker, case.pk, "已修好")
    guesser = {"REMOTE_ADDR": "203.0.113.7"}
    for n in range(CODE_GUESSES):
        wrong = f"/r/t/WRONG{n:03d}/" if n % 2 else f"/open311/v2/tokens/WRONG{n:03d}.json"
        assert client.get(wrong, **guesser).status_code == 404
    assert AuditEntry.objects.filter(action="case.code_missed", ip="203.0.113.7").count() == 20
    refused = client.get(f"/r/t/{case.code}/", **guesser)
    assert refused.status_code == 429
    assert "一小时后再试" in refused.content.decode()
    assert client.post(f"/r/t/{case.code}/rate/", {"rating": 1}, **guesser).status_code == 429
    token = client.get(f"/open311/v2/tokens/{case.code}.json", **guesser)
    assert token.status_code == 429 and token.json()[0]["code"] == 429
    case.refresh_from_db()
    assert case.state == State.RESOLVED and case.rating is None
    assert client.get(f"/r/t/{case.code}/", REMOTE_ADDR="203.0.113.8").status_code == 200


def test_a_merged_case_shows_its_primary(world, client):
    primary = make_case(world)
    other = make_case(world, description="电梯又坏了")
    workflow.merge(world.worker, other.pk, primary.pk)
    workflow.accept(world.worker, primary.pk)
    page = client.get(f"/r/t/{other.code}/").content.decode()
    assert "已受理" in page or "Accepted" in page


def test_the_qr_sheet_draws_a_code_per_building(world, as_user):
    body = as_user(world.worker).get(f"/cases/qr/{world.a.compound.pk}/").content.decode()
    assert body.count("<svg") == 2  # the compound's two buildings
    assert qr_url(world.a.building) in body


def test_rates_page_and_notifications(world, as_user):
    case = make_case(world)
    workflow.accept(world.grid_worker, case.pk)
    body = as_user(world.worker).get("/cases/rates/?days=30").content.decode()
    assert "100%" in body  # answered in time, the only one due
    body = as_user(world.street_admin).get("/cases/rates/").content.decode()
    assert world.a.place.name in body  # the street's communities, one row each
    for message in outbox.claim("t", 50):
        outbox.process(message)
    assert Notification.objects.filter(user=world.worker).count() == 1
    client = as_user(world.worker)
    body = client.get("/cases/notifications/").content.decode()
    assert case.code in body
    client.post("/cases/notifications/")
    assert not Notification.objects.filter(user=world.worker, read_at__isnull=True).exists()
    assert re.search(r"Case|诉求|案件", body)


# --- duplicates ---------------------------------------------------------------------------------


def test_likely_duplicates_in_the_same_compound_are_offered(world, as_user):
    from linli.cases.duplicates import similar

    first = make_case(world, description="1栋电梯停在5楼不动了，老人下不了楼")
    unrelated = make_case(world, description="小区东门垃圾桶满了没人清运", category="rubbish")
    # Another building of the same compound, the same lift trouble in other words.
    second = make_case(
        world, place=world.a.other_building, description="电梯停在5楼不动，老人没法下楼"
    )
    # The same words in another community are not a duplicate.
    make_case(
        world,
        place=world.b.building,
        description="1栋电梯停在5楼不动了，老人下不了楼",
        actor=world.neighbour,
    )
    found = similar(second)
    assert [c.pk for c, _score in found] == [first.pk]
    assert found[0][1] >= 0.35
    assert unrelated.pk not in [c.pk for c, _s in similar(first)]
    page = as_user(world.worker).get(f"/cases/{second.pk}/").content.decode()
    assert first.code in page and 'name="primary"' in page
    as_user(world.worker).post(f"/cases/{second.pk}/merge/", {"primary": first.code})
    second.refresh_from_db()
    assert second.state == State.MERGED and second.merged_into_id == first.pk


def test_cases_older_than_thirty_days_are_not_duplicates(world):
    import datetime

    from linli.cases.duplicates import similar

    old = make_case(world, description="电梯停在5楼不动")
    Case.objects.filter(pk=old.pk).update(received_at=old.received_at - datetime.timedelta(days=31))
    new = make_case(world, description="电梯停在5楼不动")
    assert similar(new) == []


def test_the_compound_board_shows_each_stage(world, as_user):
    waiting = make_case(world, description="门口路灯坏了", category="lighting")
    working = make_case(world, place=world.a.other_building, description="二号楼漏水")
    workflow.accept(world.worker, working.pk)
    workflow.assign(world.worker, working.pk, world.worker)
    elsewhere = make_case(
        world, place=world.b.building, description="乙社区路灯", actor=world.neighbour
    )
    body = as_user(world.worker).get(f"/cases/board/{world.a.compound.pk}/").content.decode()
    assert waiting.title in body and working.title in body and elsewhere.title not in body
    assert body.index(waiting.title) < body.index(working.title)  # received comes first
    # The chief of building 1 sees only building 1's board.
    assert as_user(world.chief).get(f"/cases/board/{world.a.compound.pk}/").status_code == 404
    assert as_user(world.worker).get(f"/cases/board/{world.a.place.pk}/").status_code == 404
