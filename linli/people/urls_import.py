"""Roster import and export pages; included under /people/ in the "people" namespace."""

from django.urls import path

from linli.people import views_import

urlpatterns = [
    path("import/", views_import.import_roster_page, name="import"),
    path("import/template.xlsx", views_import.import_template, name="import_template"),
    path("export/", views_import.export_roster_page, name="export"),
]
