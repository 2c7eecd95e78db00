"""End to end on a 360 px phone: a building chief logs a home visit with a need found, the case
is taken in and the building's visit coverage moves."""

from __future__ import annotations

import pytest

from tests.helpers.browser import PHONE, SHOTS, browser, fits_the_screen, log_in, phone

pytestmark = [pytest.mark.e2e]
__all__ = ["browser", "phone"]  # fixtures, imported for this module's tests


def test_chief_logs_a_visit_and_coverage_moves(live_server, live_world, phone):
    from linli.cases.models import Case, Category
    from linli.network import actions
    from linli.network.models import Contact
    from linli.people import actions as people
    from linli.places.models import Place

    w = live_world
    dwellings = list(
        Place.objects.filter(
            kind="dwelling", path__gte=w.a.building.path, path__lt=w.a.building.path_end
        ).order_by("path")
    )
    for i, dwelling in enumerate(dwellings):
        people.create_resident(
            None,
            {"name": f"住户{i}", "id_type": "none"},
            home=dwelling,
            relation="owner",
            is_head=True,
        )
    person = actions.add_person(w.worker, w.a.place, name="黄婶", user=w.chief)
    chief = actions.recruit_chief(w.worker, person, "building")
    actions.decide(w.worker, chief.pk, "formal")
    actions.assign(w.worker, chief.pk, building=w.a.building)

    SHOTS.mkdir(exist_ok=True)
    log_in(phone, live_server.url, "13900000004")
    phone.goto(live_server.url + "/network/")
    phone.wait_for_url("**/network/mine/")
    meter = phone.locator("ul.cards meter").first
    assert float(meter.get_attribute("value") or "1") == 0.0
    assert fits_the_screen(phone)
    phone.screenshot(path=str(SHOTS / "chief-network-360.png"), full_page=True)

    phone.locator("a[href*='/network/visit/']").first.click()
    phone.wait_for_url("**/network/visit/**")
    phone.select_option("select[name=method]", "doorstep")
    phone.fill("textarea[name=summary]", "老人精神不错")
    phone.locator("details.reveal summary").click()
    lighting = Category.objects.get(code="lighting")
    phone.select_option("select[name=need_category]", str(lighting.pk))
    phone.fill("textarea[name=need_description]", "楼道灯坏了，晚上看不见台阶")
    assert fits_the_screen(phone)
    phone.screenshot(path=str(SHOTS / "chief-visit-form-360.png"), full_page=True)
    phone.click("button.primary")
    phone.wait_for_url(f"**/network/buildings/{w.a.building.pk}/")
    assert float(phone.locator("main meter").first.get_attribute("value") or "0") == 0.5
    phone.screenshot(path=str(SHOTS / "chief-households-360.png"), full_page=True)

    contact = Contact.objects.get()
    assert contact.person == person and contact.method == "doorstep"
    case = Case.objects.get(channel="visit")
    assert case.place == w.a.building and case.category == lighting
    assert case.code in phone.locator(".messages").inner_text()
    assert PHONE["width"] == 360
