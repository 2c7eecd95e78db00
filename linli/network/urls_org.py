"""The network's organisation pages: people, the neighbourhood association, volunteer teams."""

from django.urls import URLPattern, path

from . import views_org as views

urlpatterns: list[URLPattern] = [
    path("people/", views.people, name="people"),
    path("people/new/", views.person_new, name="person_new"),
    path("people/<int:person_id>/", views.person, name="person"),
    path("associations/", views.associations, name="associations"),
    path("associations/new/", views.association_new, name="association_new"),
    path("associations/<int:association_id>/", views.association, name="association"),
    path(
        "associations/<int:group_id>/members/",
        views.member_join,
        {"kind": "association"},
        name="association_join",
    ),
    path(
        "associations/<int:group_id>/members/<int:member_id>/leave/",
        views.member_leave,
        {"kind": "association"},
        name="association_leave",
    ),
    path("teams/", views.teams, name="teams"),
    path("teams/new/", views.team_new, name="team_new"),
    path("teams/<int:team_id>/", views.team, name="team"),
    path("teams/<int:group_id>/members/", views.member_join, {"kind": "team"}, name="team_join"),
    path(
        "teams/<int:group_id>/members/<int:member_id>/leave/",
        views.member_leave,
        {"kind": "team"},
        name="team_leave",
    ),
]
