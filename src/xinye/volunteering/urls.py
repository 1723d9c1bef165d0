"""Addresses of volunteering (issue 14), under /volunteering/."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.volunteering_index, name="volunteering_index"),
    path("teams/", views.team_index, name="team_index"),
    path("teams/new/", views.team_new, name="team_new"),
    path("teams/<int:pk>/", views.team_detail, name="team_detail"),
    path("teams/<int:pk>/join/", views.team_join, name="team_join"),
    path("teams/<int:pk>/leave/", views.team_leave, name="team_leave"),
    path("teams/<int:pk>/dissolve/", views.team_dissolve, name="team_dissolve"),
    path("team-members/<int:pk>/decide/", views.team_request_decide, name="team_request_decide"),
    path("team-members/<int:pk>/leader/", views.team_leader, name="team_leader"),
    path("posts/", views.post_index, name="post_index"),
    path("posts/new/", views.post_new, name="post_new"),
    path("posts/<int:pk>/", views.post_detail, name="post_detail"),
]

urlpatterns += [
    path("activities/", views.activity_index, name="activity_index"),
    path("activities/new/", views.activity_new, name="activity_new"),
    path("activities/<int:pk>/", views.activity_detail, name="activity_detail"),
    path("shifts/<int:pk>/", views.shift_detail, name="shift_detail"),
    path("shifts/<int:pk>/sign-up/", views.shift_signup, name="shift_signup"),
    path("shifts/<int:pk>/cancel/", views.shift_cancel, name="shift_cancel"),
    path("calendar/", views.my_calendar, name="my_calendar"),
    path("teams/<int:pk>/calendar/", views.team_calendar, name="team_calendar"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
]

urlpatterns += [
    path("shifts/<int:pk>/code/", views.shift_code, name="shift_code"),
    path("shifts/<int:pk>/check/", views.shift_check, name="shift_check"),
    path("shifts/<int:pk>/by-hand/", views.shift_manual, name="shift_manual"),
]

from . import overview_views  # noqa: E402

urlpatterns += [path("overview/", overview_views.volunteering_overview, name="volunteering_overview")]

from . import recognition_views  # noqa: E402

urlpatterns += [
    path("commendations/", recognition_views.commendation_index, name="commendation_index"),
    path("commendations/new/", recognition_views.commendation_new, name="commendation_new"),
    path("commendations/<int:pk>/decide/", recognition_views.commendation_decision, name="commendation_decide"),
]

from . import hours_views  # noqa: E402

urlpatterns += [
    path("my-hours/", hours_views.my_hours, name="my_hours"),
    path("my-hours/certificate/", hours_views.my_certificate, name="my_certificate"),
    path("my-hours/certificate.pdf", hours_views.my_certificate_pdf, name="my_certificate_pdf"),
    path("my-points/", hours_views.my_points, name="my_points"),
    path("hours/review/", hours_views.hours_review_list, name="hours_review"),
    path("hours/<int:pk>/decide/", hours_views.hours_decide, name="hours_decide"),
    path("activities/<int:pk>/award-hours/", hours_views.hours_award, name="hours_award"),
    path("redeem/", hours_views.points_redeem, name="points_redeem"),
    path("teams/<int:pk>/hours.<str:fmt>", hours_views.team_hours_export, name="team_hours_export"),
    path("activities/<int:pk>/hours.<str:fmt>", hours_views.activity_hours_export, name="activity_hours_export"),
]

from . import phone_views  # noqa: E402

urlpatterns += [
    path("phone/", phone_views.phone_start, name="volunteer_phone_start"),
    path("phone/code/", phone_views.phone_verify, name="volunteer_phone_verify"),
    path("phone/end/", phone_views.phone_end, name="volunteer_phone_end"),
]
