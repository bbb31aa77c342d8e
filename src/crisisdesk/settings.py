"""Django settings, built from `crisisdesk.config.load_config()`."""

from __future__ import annotations

from pathlib import Path

import dj_database_url
import plotly

from crisisdesk.config import load_config

CONFIG = load_config()

SECRET_KEY = CONFIG.secret_key
LINKAGE_KEY = CONFIG.linkage_key  # keyed hashes for linking people across calls (analytics)
DIRECTORY_STALE_DAYS = CONFIG.directory_stale_days  # directory listings older than this are flagged
DEBUG = CONFIG.debug
ALLOWED_HOSTS = list(CONFIG.allowed_hosts)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "crisisdesk.accounts",
    "crisisdesk.audit",
    "crisisdesk.calls",
    "crisisdesk.casework",
    "crisisdesk.directory",
    "crisisdesk.referrals",
    "crisisdesk.evaluation",
    "crisisdesk.web",
    "ninja",  # serves the API docs page's Swagger files locally (no CDN)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "crisisdesk.web.middleware.NoStoreMiddleware",
]

ROOT_URLCONF = "crisisdesk.urls"
WSGI_APPLICATION = "crisisdesk.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database() -> dict[str, object]:
    db: dict[str, object] = dict(dj_database_url.parse(CONFIG.database_url, conn_max_age=0))
    if db["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets the queue page read while a transfer commits; IMMEDIATE transactions take the
        # write lock up front so two concurrent claims queue instead of failing with "database is
        # locked" on a lock upgrade; synchronous=FULL so an acknowledged call survives power loss.
        db["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
        }
        CONFIG.data_dir.mkdir(parents=True, exist_ok=True)
        # A file, not Django's default in-memory test database: the in-memory one locks whole
        # tables and fails at once, so the busy timeout and IMMEDIATE mode would go untested.
        db["TEST"] = {"NAME": str(CONFIG.data_dir / "test-crisisdesk.sqlite3")}
    return db


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 15}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "America/Chicago"  # display zone; everything is stored in UTC
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = CONFIG.data_dir / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise expects it; files come from the finders
# Static files (htmx, CSS) ship in the package and are served by WhiteNoise: no CDN.
WHITENOISE_USE_FINDERS = True
# plotly.js for the evaluation charts, from the installed plotly package (same version as the specs).
STATICFILES_DIRS = [("vendor/plotly", str(Path(plotly.__file__).resolve().parent / "package_data"))]
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 12 * 60 * 60  # absolute cap; idle timeouts per role come with the access-control work
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if CONFIG.https:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"crisisdesk": {"level": "INFO"}},
}
