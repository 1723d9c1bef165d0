from django.urls import path

from . import indicator_views, report_views

urlpatterns = [
    path("", indicator_views.indicator_index, name="indicator_index"),
    path("records/", indicator_views.indicator_records, name="indicator_records"),
    path("pilots/", indicator_views.pilot_index, name="pilot_index"),
    path("pilots/<int:pk>/", indicator_views.pilot_edit, name="pilot_edit"),
    path("pilots/<int:pk>/delete/", indicator_views.pilot_delete, name="pilot_delete"),
    path("reports/", report_views.report_index, name="indicator_reports"),
    path("reports/generate/", report_views.report_generate, name="indicator_report_generate"),
    path("reports/<int:pk>/<str:fmt>/", report_views.report_download, name="indicator_report_download"),
]
