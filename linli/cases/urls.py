from django.urls import path

from . import views

app_name = "cases"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("new/", views.new, name="new"),
    path("rates/", views.rates_page, name="rates"),
    path("notifications/", views.notifications, name="notifications"),
    path("qr/<int:place_id>/", views.qr_sheet, name="qr"),
    path("board/<int:place_id>/", views.board, name="board"),
    path("<int:case_id>/", views.detail, name="detail"),
    path("<int:case_id>/phone/", views.reveal_phone, name="reveal_phone"),
    path("<int:case_id>/photo/<int:photo_id>/", views.photo, name="photo"),
    path("<int:case_id>/<slug:action>/", views.step, name="step"),
]
