"""End to end, in headless Chromium (Debian's /usr/bin/chromium driven by Playwright).

A building chief logs in on a 360 px phone and finds their building; an outsider is refused.
Screenshots go to ``test-results/`` for a person to look at.
"""

from __future__ import annotations

import pytest

from tests.helpers.browser import PHONE, SHOTS, browser, fits_the_screen, log_in, phone

pytestmark = [pytest.mark.e2e]
__all__ = ["browser", "phone"]  # fixtures, imported for this module's tests


def test_chief_on_a_phone_sees_their_building(live_server, live_world, phone):
    SHOTS.mkdir(exist_ok=True)
    w = live_world
    log_in(phone, live_server.url, "13900000004")  # by mobile number
    assert phone.locator("h1").inner_text().startswith("你好")  # Chinese by default
    phone.screenshot(path=str(SHOTS / "chief-home-360.png"), full_page=True)
    phone.click(f"text={w.a.building.name}")
    phone.wait_for_url(f"**/places/{w.a.building.pk}/")
    assert phone.locator("table.building").is_visible()
    dwellings = phone.locator("table.building a.dwelling")
    assert dwellings.count() == 2
    assert fits_the_screen(phone)
    # Tap targets are at least 44 px tall in the navigation.
    heights = phone.locator("nav.nav a").evaluate_all("els => els.map(e => e.offsetHeight)")
    assert heights and min(heights) >= 44
    phone.screenshot(path=str(SHOTS / "chief-building-360.png"), full_page=True)
    # The next building in the same compound is not theirs: the page says "not found".
    response = phone.goto(f"{live_server.url}/places/{w.a.other_building.pk}/")
    assert response is not None and response.status == 404


def test_outsider_is_refused(live_server, live_world, phone):
    w = live_world
    log_in(phone, live_server.url, "outsider")
    assert "还没有" in phone.locator("main").inner_text()  # "you have no role yet"
    for url in (
        f"/places/{w.a.building.pk}/",
        "/places/",
        "/audit/",
        f"/places/grids/{w.a.grid.pk}/",
    ):
        response = phone.goto(live_server.url + url)
        assert response is not None and response.status == 404
        assert w.a.building.name not in phone.content()
    phone.screenshot(path=str(SHOTS / "outsider-404-360.png"), full_page=True)


def test_language_switch_to_english_and_back(live_server, live_world, phone):
    log_in(phone, live_server.url, "worker")
    phone.click("footer button[value=en]")
    phone.wait_for_load_state()
    assert phone.locator("nav.nav").inner_text().count("Places") == 1
    phone.click("footer button[value=zh-hans]")
    phone.wait_for_load_state()
    assert "地点" in phone.locator("nav.nav").inner_text()


def test_street_admin_on_a_desktop_browses_down_to_a_dwelling(live_server, live_world, browser):
    w = live_world
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    log_in(page, live_server.url, "street_admin")
    page.click(f"text={w.street.name}")
    page.click(f"text={w.a.place.name}")
    page.click(f"text={w.a.compound.name}")
    page.click(f"text={w.a.building.name}")
    page.locator(f'table.building a.dwelling[href="/places/{w.a.dwelling.pk}/"]').click()
    page.wait_for_url(f"**/places/{w.a.dwelling.pk}/")
    page.screenshot(path=str(SHOTS / "street-admin-dwelling-1280.png"), full_page=True)
    assert "88.50" in page.content()
    context.close()


def test_worker_reveals_a_number_on_a_phone_and_it_is_audited(live_server, live_world, phone):
    from linli.core.models import AuditEntry
    from linli.people import actions as people

    w = live_world
    grandma = people.create_resident(
        None,
        {"name": "单桂芳", "id_number": "11010519491231002X", "phone": "13812345678"},
        home=w.a.dwelling,
        relation="owner",
        is_head=True,
    )
    log_in(phone, live_server.url, "worker")
    phone.goto(f"{live_server.url}/places/{w.a.building.pk}/")
    phone.click("text=单桂芳")  # the household shown in the building drawing
    phone.wait_for_url(f"**/places/{w.a.dwelling.pk}/")
    phone.click("main >> text=单桂芳")
    phone.wait_for_url(f"**/people/{grandma.pk}/")
    assert "1101**********002X" in phone.content()
    assert "11010519491231002X" not in phone.content()
    phone.click("#reveal-id_number summary")
    phone.fill("#reason-id_number", "办理高龄津贴")
    phone.click("#reveal-id_number button")
    phone.wait_for_selector("#reveal-id_number code.secret")
    assert phone.locator("#reveal-id_number code.secret").inner_text() == "11010519491231002X"
    assert fits_the_screen(phone)
    phone.screenshot(path=str(SHOTS / "worker-reveal-360.png"), full_page=True)
    assert AuditEntry.objects.filter(action="resident.reveal", actor_name="worker").count() == 1


def test_a_case_from_the_qr_code_to_the_residents_rating(live_server, live_world, browser, phone):
    """The issue's whole story: a resident scans the building's code on a phone, files a case
    with a photo, gets a tracking code; the worker assigns it, the grid worker resolves it; the
    resident rates it; the rates move."""
    import datetime
    import tempfile

    from linli.cases.models import Case
    from linli.cases.public import qr_url
    from tests.helpers.uploads import PNG

    w = live_world
    SHOTS.mkdir(exist_ok=True)
    phone.goto(live_server.url + qr_url(w.a.building))
    assert w.a.building.name in phone.content() and fits_the_screen(phone)
    phone.select_option("select[name=category]", label="设施维修 › 电梯")
    phone.fill("textarea[name=description]", "2单元电梯停在5楼不动，老人下不了楼")
    with tempfile.NamedTemporaryFile(suffix=".png") as photo:
        photo.write(PNG)
        photo.flush()
        phone.set_input_files("input[name=photo]", photo.name)
        phone.fill("input[name=reporter_phone]", "13912345678")
        phone.screenshot(path=str(SHOTS / "resident-qr-form-360.png"), full_page=True)
        phone.click("button.primary")
        phone.wait_for_url("**/r/t/*/")
    case = Case.objects.get()
    assert case.code in phone.content() and case.photos.count() == 1
    assert "已接收" in phone.content() and fits_the_screen(phone)
    phone.screenshot(path=str(SHOTS / "resident-tracking-360.png"), full_page=True)

    desk = browser.new_context(viewport={"width": 1280, "height": 900})
    worker = desk.new_page()
    log_in(worker, live_server.url, "worker")
    worker.goto(live_server.url + "/cases/")
    worker.click("text=2单元电梯停在5楼不动")
    worker.click("button:has-text('受理')")
    worker.select_option("select[name=assignee]", label="grid_worker")
    worker.click("button:has-text('派单')")
    assert "已派单" in worker.content()
    desk.close()

    grid = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    g = grid.new_page()
    log_in(g, live_server.url, "grid_worker")
    g.goto(f"{live_server.url}/cases/?who=mine")
    g.click("text=2单元电梯停在5楼不动")
    g.fill("textarea[name=resolution]", "已联系电梯公司更换控制板，恢复运行")
    g.click("button:has-text('办结')")
    assert "已办结" in g.content()
    g.screenshot(path=str(SHOTS / "grid-worker-resolved-360.png"), full_page=True)
    grid.close()

    phone.goto(f"{live_server.url}/r/t/{case.code}/")
    phone.check("input[name=rating][value='5']")
    phone.click("button:has-text('提交评价')")
    phone.wait_for_load_state()
    assert "已评价" in phone.content() and "非常满意" in phone.content()
    case.refresh_from_db()
    assert case.rating == 5

    from django.db.models import Q

    from linli.cases.rates import rates

    r = rates(Q(pk=case.pk), case.received_at, case.received_at + datetime.timedelta(days=1))
    assert (r.resolved, r.accepted, r.satisfied, r.rated) == (1, 1, 1, 1)
