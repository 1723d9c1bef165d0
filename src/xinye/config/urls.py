from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from xinye.accounts import second_factor_views, user_views
from xinye.accounts.views import LoginView, LogoutView, PasswordChangeView, audit_log
from xinye.common import views as common_views
from xinye.common.health import healthz
from xinye.demands import views as demand_views
from xinye.organizations import community_views, post_views, structure_views
from xinye.organizations import views as org_views
from xinye.organizations.api import CompanyViewSet, OrganizationViewSet
from xinye.organizations.community_api import CommunityPlanViewSet
from xinye.people import member_views, recruitment_views, rights_views, roster_views
from xinye.people import report_views as community_report_views
from xinye.people import views as people_views
from xinye.people.api import PersonViewSet
from xinye.places import views as places_views
from xinye.places.api import DivisionViewSet
from xinye.reports import views as report_views
from xinye.reports.api import IndicatorView
from xinye.stations import views as station_views
from xinye.stations.api import NearestStationsView, StationViewSet

router = DefaultRouter()
router.register("divisions", DivisionViewSet, basename="division")
router.register("people", PersonViewSet, basename="person")
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("companies", CompanyViewSet, basename="company")
router.register("stations", StationViewSet, basename="station")
router.register("community-plans", CommunityPlanViewSet, basename="community-plan")

urlpatterns = [
    path("", report_views.dashboard, name="dashboard"),
    # browsers ask for /favicon.ico whatever the page links: the SVG icon every page links in its <head>
    path("favicon.ico", common_views.favicon),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", LogoutView.as_view(), name="logout"),
    path("accounts/password/", PasswordChangeView.as_view(), name="password_change"),
    path("accounts/login/code/", second_factor_views.login_code, name="login_code"),
    path("accounts/second-factor/", second_factor_views.second_factor, name="second_factor"),
    path("accounts/second-factor/qr.svg", second_factor_views.second_factor_qr, name="second_factor_qr"),
    path("accounts/me/", user_views.my_account, name="my_account"),
    path("accounts/me/role/", user_views.switch_role, name="switch_role"),
    path("accounts/me/sessions/<int:pk>/end/", user_views.end_session, name="end_session"),
    path("accounts/me/sessions/end-others/", user_views.end_other_sessions, name="end_other_sessions"),
    path("accounts/welcome/<str:uidb64>/<str:token>/", user_views.account_welcome, name="account_welcome"),
    # managing users is not under /accounts/ (reachable before a second factor is verified)
    path("users/", user_views.user_index, name="user_index"),
    path("users/invite/", user_views.user_invite, name="user_invite"),
    path("users/<int:pk>/", user_views.user_detail, name="user_detail"),
    path("users/<int:pk>/roles/", user_views.user_grant, name="user_grant"),
    path("users/<int:pk>/roles/<int:role_pk>/", user_views.role_edit, name="role_edit"),
    path("users/<int:pk>/roles/<int:role_pk>/revoke/", user_views.role_revoke, name="role_revoke"),
    path("users/<int:pk>/account/", user_views.user_account, name="user_account"),
    path("audit/", audit_log, name="audit_log"),  # administrators only (issue 10)
    path("i18n/", include("django.conf.urls.i18n")),
    path("places/", places_views.division_index, name="division_index"),
    path("places/<str:code>/", places_views.division_detail, name="division_detail"),
    path("places/<str:code>/branches/", community_views.division_branches, name="division_branches"),
    path("places/<str:code>/branches/form/", community_views.division_branches_form, name="division_branches_form"),
    path("community-plans/<int:pk>/", community_views.community_plan_detail, name="community_plan_detail"),
    path("community-plans/<int:pk>/decide/", community_views.community_plan_decide, name="community_plan_decide"),
    path("report/", community_report_views.report_form, name="report_form"),
    path("my-data/", rights_views.my_data_start, name="my_data_start"),
    path("my-data/code/", rights_views.my_data_verify, name="my_data_verify"),
    path("my-data/view/", rights_views.my_data_view, name="my_data_view"),
    path("my-data/xinye-my-data.json", rights_views.my_data_json, name="my_data_json"),
    path("my-data/delete/", rights_views.my_data_erase, name="my_data_erase"),
    path("my-data/withdraw/", rights_views.my_data_withdraw, name="my_data_withdraw"),
    path("community-reports/", community_report_views.report_list, name="report_list"),
    path("union-applications/", community_report_views.union_applications, name="union_applications"),
    path("community-reports/<int:pk>/decide/", community_report_views.report_decide, name="report_decide"),
    path("members/", member_views.member_flags, name="member_flags"),
    path("members/reported/", member_views.floating_requests, name="floating_requests"),
    path("recruitment/", recruitment_views.recruit_index, name="recruit_index"),
    path("recruitment/<int:pk>/", recruitment_views.recruit_detail, name="recruit_detail"),
    path("people/<int:pk>/recruitment/", recruitment_views.recruit_start, name="recruit_start"),
    path("people/<int:pk>/floating/", member_views.floating_register, name="floating_register"),
    path("members/<int:pk>/transfer/", member_views.transfer_request, name="transfer_request"),
    path("transfers/<int:pk>/decide/", member_views.transfer_decide, name="transfer_decide"),
    path("people/", people_views.person_index, name="person_index"),
    path("people/import/", roster_views.roster_import_page, name="roster_import"),
    path("people/import/template.<str:fmt>", roster_views.roster_template, name="roster_template"),
    path("people/import/<int:pk>/", roster_views.roster_result, name="roster_result"),
    path("people/import/<int:pk>/import/", roster_views.roster_confirm, name="roster_confirm"),
    path("people/<int:pk>/", people_views.person_detail, name="person_detail"),
    path("organizations/", org_views.organization_index, name="organization_index"),
    path("organizations/<int:pk>/", org_views.organization_detail, name="organization_detail"),
    path("organizations/<int:pk>/posts/", post_views.organization_posts, name="organization_posts"),
    re_path(
        r"^organizations/(?P<pk>\d+)/export\.(?P<fmt>ttl|jsonld|popolo\.json)$",
        org_views.organization_export,
        name="organization_export",
    ),
    path("companies/", org_views.company_index, name="company_index"),
    path("companies/<int:pk>/", org_views.company_detail, name="company_detail"),
    path("companies/<int:pk>/structure/", structure_views.company_structure, name="company_structure"),
    path("companies/<int:pk>/structure/plan/", structure_views.company_plan, name="company_plan"),
    path("companies/<int:pk>/business.xlsx", structure_views.company_business_download, name="company_business"),
    path(
        "companies/<int:pk>/business/import/", structure_views.company_business_import, name="company_business_import"
    ),
    path("proposals/<int:pk>/", structure_views.proposal_detail, name="proposal_detail"),
    path("proposals/<int:pk>/decide/", structure_views.proposal_decide, name="proposal_decide"),
    path("healthz", healthz, name="healthz"),
    path("jobs/<int:pk>/", common_views.job_detail, name="job_detail"),
    path("jobs/<int:pk>/restart/", common_views.job_restart, name="job_restart"),
    path("liaison/", include("xinye.demands.liaison_urls")),
    path("volunteering/", include("xinye.volunteering.urls")),
    path("indicators/", include("xinye.reports.urls")),
    path("demands/", demand_views.demand_queue, name="demand_queue"),
    path("demands/new/", demand_views.demand_new, name="demand_new"),
    path("demands/new/communities/", demand_views.demand_communities, name="demand_communities"),
    path("demands/bulk/", demand_views.demand_bulk, name="demand_bulk"),
    path("demands/stats/", demand_views.demand_stats, name="demand_stats"),
    path("demands/track/", demand_views.demand_track_form, name="demand_track_form"),
    path("demands/tracked/", demand_views.demand_track, name="demand_track"),
    # old links held the tracking code in the address (and so in access logs): they now lead to the form
    path("demands/track/<str:code>/", demand_views.demand_track_old_link),
    path("demands/<int:pk>/", demand_views.demand_detail, name="demand_detail"),
    path("demands/<int:pk>/photos/<int:attachment>/", demand_views.demand_photo, name="demand_photo"),
    path("api/stations/nearest/", NearestStationsView.as_view(), name="stations_nearest"),
    path("api/stations/nearest", NearestStationsView.as_view()),
    path("stations/finder/", station_views.finder, name="station_finder"),
    path("stations/finder/map.json", station_views.finder_map, name="station_finder_map"),
    path("stations/", station_views.station_index, name="station_index"),
    path("stations/new/", station_views.station_new, name="station_new"),
    path("stations/<int:pk>/", station_views.station_detail, name="station_detail"),
    path("stations/<int:pk>/edit/", station_views.station_edit, name="station_edit"),
    path("stations/import/", station_views.station_import, name="station_import"),
    path("stations/hours-preview/", station_views.hours_preview, name="station_hours_preview"),
    path("stations/template.xlsx", station_views.station_template, name="station_template"),
    re_path(r"^stations/export\.(?P<fmt>csv|xlsx|geojson)$", station_views.station_export, name="station_export"),
    path("stations/coverage/", station_views.station_coverage, name="station_coverage"),
    path("stations/placement/", station_views.station_placement, name="station_placement"),
    path("stations/placement/<int:pk>/", station_views.station_placement_detail, name="station_placement_detail"),
    path(
        "stations/placement/<int:pk>/export.csv",
        station_views.station_placement_export,
        name="station_placement_export",
    ),
    path("api/indicators/", IndicatorView.as_view(), name="api_indicators"),
    path("api/", include(router.urls)),
    path("open311/v2/", include("xinye.demands.open311_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # the split view serves Swagger UI's start script as a file (the Content-Security-Policy forbids inline script)
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api/swagger_ui.html"),
        name="api_docs",
    ),
    path("admin/", admin.site.urls),
]

# error pages with an error id, never a traceback (issue 10)
handler400 = "xinye.common.failures.bad_request"
handler403 = "xinye.common.failures.permission_denied"
handler404 = "xinye.common.failures.page_not_found"
handler500 = "xinye.common.failures.server_error"
