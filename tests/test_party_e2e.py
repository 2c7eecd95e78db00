"""The dual report end to end in headless Chromium on a 360 px phone: an in-service member
registers from the community's QR link, the worker approves, the member claims a task and logs
hours, the worker confirms, and the unit's service record shows the hours to its partner
contact. Selectors are by id and form action, so the story holds in either language."""

from __future__ import annotations

from pathlib import Path

import pytest

from linli.party.models import Claim, HoursStatus, Registration, ServiceHours
from linli.party.public import register_url
from tests.conftest import PASSWORD
from tests.helpers.browser import SHOTS, browser, fits_the_screen, new_phone
from tests.helpers.party import USCC_BANK, build_party

pytestmark = [pytest.mark.e2e]
__all__ = ["browser"]  # a fixture, imported for this module's test


def log_in(page, base: str, login: str, password: str = PASSWORD) -> None:
    page.goto(base + "/accounts/login/")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.click("button.primary")
    page.wait_for_load_state()


def test_dual_report_from_the_qr_code_to_the_service_record(live_server, live_world, browser):
    SHOTS.mkdir(exist_ok=True)
    w = live_world
    party = build_party(w)
    base = live_server.url
    errors: list[str] = []

    # 1. The member scans the community's QR code and registers.
    ctx, phone = new_phone(browser, errors)
    phone.goto(base + register_url(w.a.place))
    assert w.a.place.name in phone.content() and fits_the_screen(phone)
    phone.fill("input[name=name]", "张在职")
    phone.fill("input[name=phone]", "139 1234 5678")
    phone.fill("input[name=unit_name]", "某银行支行")
    phone.fill("input[name=uscc]", USCC_BANK)
    phone.fill("input[name=skills]", "法律咨询")
    phone.fill("input[name=availability]", "周末")
    phone.fill("input[name=password]", "a-long-pass-phrase-9")
    phone.screenshot(path=str(SHOTS / "party-register-360.png"), full_page=True)
    phone.click("button.primary")
    phone.wait_for_url("**/d/ok/")
    reg = Registration.objects.get()
    assert reg.status == "pending"

    # 2. The worker approves it, on a phone too.
    wctx, worker = new_phone(browser, errors)
    log_in(worker, base, "worker")
    worker.goto(base + "/party/registrations/")
    assert "139****5678" in worker.content() and "13912345678" not in worker.content()
    assert fits_the_screen(worker)
    worker.click(f"#registration-{reg.pk} form[action$='/approve/'] button")
    worker.wait_for_load_state()
    reg.refresh_from_db()
    assert reg.status == "approved"

    # 3. The member logs in with their mobile, claims the task, logs hours.
    log_in(phone, base, "13912345678", "a-long-pass-phrase-9")
    phone.goto(base + "/party/serve/")
    assert fits_the_screen(phone)
    phone.click(f"#post-{party.task.pk} button")
    phone.wait_for_load_state()
    made = Claim.objects.get(member=reg.member)
    phone.click(f"#claim-{made.pk} summary")
    phone.fill(f"#claim-{made.pk} input[name=hours]", "3")
    phone.fill(f"#claim-{made.pk} input[name=note]", "清理楼道杂物")
    phone.screenshot(path=str(SHOTS / "party-serve-360.png"), full_page=True)
    phone.click(f"#claim-{made.pk} form[action$='/hours/'] button")
    phone.wait_for_load_state()
    row = ServiceHours.objects.get(member=reg.member)
    assert row.status == HoursStatus.PENDING and str(row.hours) == "3.0"

    # 4. The worker confirms the hours.
    worker.goto(base + "/party/hours/")
    worker.click(f"#hours-{row.pk} form[action$='/confirm/'] button")
    worker.wait_for_load_state()
    row.refresh_from_db()
    assert row.status == HoursStatus.CONFIRMED

    # 5. The unit's partner contact reads the service record.
    pctx, partner = new_phone(browser, errors)
    log_in(partner, base, "partner")
    partner.goto(base + "/party/units/")
    partner.click(f"a[href='/party/units/{party.unit.pk}/']")
    partner.wait_for_url(f"**/party/units/{party.unit.pk}/")
    record = partner.locator("#record").inner_text()
    assert "张在职" in record and "3.0" in record and "139****5678" in record
    assert fits_the_screen(partner)
    partner.screenshot(path=str(SHOTS / "party-record-360.png"), full_page=True)
    with partner.expect_download() as download:
        partner.click(f"a[href^='/party/units/{party.unit.pk}/record.pdf']")
    assert Path(download.value.path()).read_bytes()[:4] == b"%PDF"
    # Someone else's unit is not found.
    response = partner.goto(f"{base}/party/units/{party.other_unit.pk}/")
    assert response is not None and response.status == 404
    for context in (ctx, wctx, pctx):
        context.close()
    assert errors == []
