from django.urls import path

from . import urls_org, views

app_name = "network"
urlpatterns = [
    path("", views.home, name="home"),
    path("mine/", views.mine, name="mine"),
    path("buildings/<int:place_id>/", views.building, name="building"),
    path("visit/<int:dwelling_id>/", views.visit, name="visit"),
    path("contacts/", views.contacts, name="contacts"),
    path("contacts/new/", views.contact_new, name="contact_new"),
    path("contacts/<int:contact_id>/", views.contact, name="contact"),
    path("coverage/<str:kind>/<int:pk>/", views.coverage_page, name="coverage"),
    path("coverage/<str:kind>/<int:pk>/unreached/", views.unreached_page, name="unreached"),
    path("chiefs/", views.chiefs, name="chiefs"),
    path("chiefs/<int:chief_id>/", views.chief, name="chief"),
    path("chiefs/<int:chief_id>/decide/", views.chief_decide, name="chief_decide"),
    path("chiefs/<int:chief_id>/assign/", views.chief_assign, name="chief_assign"),
    path("assignments/<int:assignment_id>/end/", views.assignment_end, name="assignment_end"),
    *urls_org.urlpatterns,
]
