"""Chinese first, English complete: the catalogues cover every string and are compiled."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import polib
import pytest

LOCALE = Path(__file__).resolve().parent.parent / "linli" / "locale"


@pytest.mark.parametrize("language", ["zh_Hans", "en"])
def test_catalogue_is_complete_and_compiled(language):
    po = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
    assert po.untranslated_entries() == []
    assert po.fuzzy_entries() == []
    mo = polib.mofile(str(LOCALE / language / "LC_MESSAGES" / "django.mo"))
    compiled = {(e.msgctxt, e.msgid): e.msgstr for e in mo}
    for entry in po.translated_entries():
        if not entry.msgid_plural:
            assert compiled.get((entry.msgctxt, entry.msgid)) == entry.msgstr, entry.msgid


def test_catalogue_has_every_string_of_the_source(tmp_path):
    """Every string marked for translation in code and templates is in the catalogue."""
    from django.utils.translation.template import templatize

    assert shutil.which("xgettext"), "GNU gettext is needed (make test installs it as root)"
    po = polib.pofile(str(LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    known = {e.msgid for e in po}
    root = Path(__file__).resolve().parent.parent / "linli"
    sources = [str(p) for p in root.rglob("*.py") if "migrations" not in p.parts]
    for i, template in enumerate(root.rglob("templates/**/*.html")):
        converted = tmp_path / f"t{i}.py"
        converted.write_text(templatize(template.read_text(), origin=str(template)))
        sources.append(str(converted))
    out = tmp_path / "py.pot"
    subprocess.run(
        [
            "xgettext",
            "-L",
            "Python",
            "--from-code=UTF-8",
            "-k_",
            "-kgettext",
            "-kgettext_lazy",
            "-kngettext:1,2",
            "-kpgettext:1c,2",
            "-knpgettext:1c,2,3",
            "-o",
            str(out),
            *sources,
        ],
        check=True,
    )
    found = {e.msgid for e in polib.pofile(str(out)) if e.msgid}
    assert found - known == set()


@pytest.mark.django_db
def test_pages_are_chinese_unless_the_user_switches(client):
    body = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en").content.decode()
    assert "登录" in body
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert "Log in" in client.get("/accounts/login/").content.decode()


def test_a_word_in_a_context_keeps_its_own_translation():
    """The word accepted is a field's label (when) and, in the context case step, a step's name."""
    from django.utils import translation
    from django.utils.translation import gettext, pgettext

    with translation.override("zh-hans"):
        assert gettext("accepted") == "受理时间"
        assert pgettext("case step", "accepted") == "受理"


def test_every_audit_label_reads_in_chinese():
    """Each app names its actions in its AppConfig (core.audit collects them); each name is in
    the catalogue, so the audit page reads in Chinese (the network's once were not)."""
    from django.utils import translation

    from linli.core.audit import action_labels

    labels = action_labels()
    assert {"keys.rotate", "login", "place.create", "case.accept", "network.visit"} <= set(labels)
    assert {"party.claim", "open311.file", "demo.load", "roster.import"} <= set(labels)
    for action, label in labels.items():
        with translation.override("en"):
            english = str(label)
        with translation.override("zh-hans"):
            assert str(label) != english, action
