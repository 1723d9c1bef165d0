"""URLs of liaisons, included under /liaison/."""

from django.urls import path

from . import liaison_views as views

urlpatterns = [
    path("", views.liaison_index, name="liaison_index"),
    path("division/<str:code>/", views.liaison_division, name="liaison_division"),
    path("division/<str:code>/run/", views.liaison_division_run, name="liaison_division_run"),
    path("organization/<int:pk>/", views.liaison_organization, name="liaison_organization"),
    path("organization/<int:pk>/run/", views.liaison_organization_run, name="liaison_organization_run"),
    path("quota/<int:pk>/", views.liaison_quota, name="liaison_quota"),
    path("runs/<int:pk>/", views.liaison_run, name="liaison_run"),
    path("mine/", views.liaison_mine, name="liaison_mine"),
    path("mine/<int:worker>/", views.contact_new, name="contact_new"),
    path("mine/<int:worker>/call/", views.worker_reach, {"how": "tel"}, name="worker_call"),
    path("mine/<int:worker>/sms/", views.worker_reach, {"how": "sms"}, name="worker_sms"),
    path("branch/<int:pk>/", views.liaison_branch, name="liaison_branch"),
]
