"""Django settings, built from `crisisdesk.config.load_config()`."""

from __future__ import annotations

from pathlib import Path

import dj_database_url
import plotly

from crisisdesk.config import load_config

CONFIG = load_config()

SECRET_KEY = CONFIG.secret_key
AUDIT_KEY = CONFIG.audit_key  # keys the audit trail's hash chain (crisisdesk.audit.chain)
LINKAGE_KEY = CONFIG.linkage_key  # keyed hashes for linking people across calls (analytics)
DIRECTORY_STALE_DAYS = CONFIG.directory_stale_days  # directory listings older than this are flagged
EXPORT_DATE_GRAIN = CONFIG.export_date_grain  # period of evaluation exports (docs/deidentification.md)
DEBUG = CONFIG.debug
ALLOWED_HOSTS = list(CONFIG.allowed_hosts)

INSTALLED_APPS = [
    "crisisdesk.accounts.admin_config.CrisisDeskAdminConfig",  # django.contrib.admin, second factor required
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",  # TOTP second factor for every person (docs/security.md)
    "crisisdesk.accounts",
    "crisisdesk.audit",
    "crisisdesk.calls",
    "crisisdesk.casework",
    "crisisdesk.directory",
    "crisisdesk.referrals",
    "crisisdesk.evaluation",
    "crisisdesk.retention",  # retention policy (versioned) and the audited purge
    "crisisdesk.web",
    "ninja",  # serves the API docs page's Swagger files locally (no CDN)
]

MIDDLEWARE = [
    "crisisdesk.audit.middleware.RequestContextMiddleware",  # request id + client address for audit rows
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # Content-Security-Policy (CONTENT_SECURITY_POLICY below)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "crisisdesk.web.middleware.NoStoreMiddleware",
    # Last: second factor, idle and absolute limits from the server-side session record.
    "crisisdesk.accounts.middleware.SignInMiddleware",
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
            # secure_delete: a purged record's pages are overwritten with zeros, not left readable in
            # the file (Minn. Stat. 13.05 subd. 5; docs/retention.md covers the WAL and backups).
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; "
            "PRAGMA secure_delete=ON;",
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
SESSION_COOKIE_AGE = 12 * 60 * 60  # the cookie's own cap; the server enforces CRISISDESK_SIGN_IN below
# Sign-in and sessions: the one place these numbers live (why each: docs/security.md, "Sign-in and
# sessions"). Read through crisisdesk.accounts.policy; tests override it with the settings fixture.
CRISISDESK_SIGN_IN = {
    "failure_limit": 5,  # failed passwords or codes for one account in the window lock it (CJIS AC-7)
    "failure_window_seconds": 15 * 60,
    "client_failure_limit": 20,  # failures from one client address in the window: refuse it (429)
    "idle_seconds": {  # per role; consoles on the secure 911 floor get CJIS AC-11's 30 minutes
        "telecommunicator": 30 * 60,
        "social_worker": 15 * 60,
        "supervisor": 15 * 60,
        "evaluator": 15 * 60,
        "administrator": 15 * 60,
    },
    "absolute_seconds": 12 * 60 * 60,  # NIST 800-63B AAL2, CJIS IA-11
    "activity_resolution_seconds": 10,  # last activity is written at most this often per session
    "second_step_seconds": 5 * 60,  # time allowed between the password and the code
}
OTP_TOTP_ISSUER = "Crisis Desk"  # the name an authenticator app shows next to the code
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # the admin never shows a TOTP secret or its QR code
# django-otp's own back-off would refuse a right code typed just after a typo, and each such refusal
# would count towards the lockout; the lockout above is the brute-force control for codes too.
OTP_TOTP_THROTTLE_FACTOR = 0
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Strict Content-Security-Policy (docs/security.md, "Web hardening"): scripts and styles only from
# our static files, no inline script, no eval, no framing. htmx is configured by a <meta> tag and its
# indicator styles are off (base.html); JSON for the charts travels in non-executable data blocks.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}
CSRF_COOKIE_HTTPONLY = True  # pages send the token from the template (hx-headers), never from the cookie
CSRF_FAILURE_VIEW = "crisisdesk.web.errors.csrf_failure"
if CONFIG.https:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # `__Host-`: the browser takes these cookies only if Secure, for "/", and from this host alone
    # (no Domain attribute), so a sibling subdomain cannot set or overwrite them (ASVS 3.3.1).
    SESSION_COOKIE_NAME = "__Host-crisisdesk_session"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    # Sending `preload` enrols nothing by itself; submitting the host to the browsers' preload
    # list is the operator's decision (it cannot be undone quickly). HTTPS-only is ours.
    SECURE_HSTS_PRELOAD = True
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # No personal data in application logs: every handler masks phone numbers, e-mail addresses and
    # long digit runs (crisisdesk.logging_filters; tests/web/test_hardening.py checks every handler).
    "filters": {"redact_personal_data": {"()": "crisisdesk.logging_filters.RedactPersonalData"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact_personal_data"]}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "crisisdesk": {"level": "INFO"},
        # Django's default handlers are replaced, not kept beside ours: its mail_admins handler would
        # e-mail the request (body and POST data included) with every server error.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
