from django.urls import path

from . import views

app_name = "party"
urlpatterns = [
    path("", views.home, name="home"),
    path("orgs/", views.orgs, name="orgs"),
    path("orgs/<int:org_id>/secretary/", views.org_secretary, name="org_secretary"),
    path("members/", views.members, name="members"),
    path("members/new/", views.member_new, name="member_new"),
    path("members/<int:member_id>/", views.member, name="member"),
    path("registrations/", views.registrations, name="registrations"),
    path("registrations/<int:registration_id>/<slug:action>/", views.decide, name="decide"),
    path("posts/", views.posts, name="posts"),
    path("posts/<int:post_id>/", views.post, name="post"),
    path("posts/<int:post_id>/close/", views.post_close, name="post_close"),
    path("posts/<int:post_id>/claim/", views.claim, name="claim"),
    path("claims/", views.claims, name="claims"),
    path("claims/<int:claim_id>/withdraw/", views.withdraw, name="withdraw"),
    path("claims/<int:claim_id>/hours/", views.log_hours, name="log_hours"),
    path("serve/", views.serve, name="serve"),
    path("hours/", views.hours, name="hours"),
    path("hours/<int:hours_id>/<slug:action>/", views.hours_decide, name="hours_decide"),
    path("evaluations/", views.evaluations, name="evaluations"),
    path("units/", views.units, name="units"),
    path("units/<int:unit_id>/", views.unit, name="unit"),
    path("units/<int:unit_id>/record.<slug:ext>", views.record_file, name="record_file"),
    path("qr/", views.qr_sheet, name="qr"),
]
