"""One settings module, configured from the environment.

Variables (all optional for a local run):

- ``DATABASE_URL``: ``sqlite:///path`` or ``postgres://user@host:port/db``. Default: SQLite in WAL mode
  at ``var/linli.sqlite3`` under the project root.
- ``LINLI_SECRET_KEY``: the signing key. When unset, a random key is generated once into
  ``var/secret_key`` (mode 600) and reused, so sessions survive restarts.
- ``LINLI_DEBUG``: ``1`` to turn on Django's debug pages. Off by default.
- ``LINLI_ALLOWED_HOSTS``: comma-separated host names. Default: ``127.0.0.1,localhost,testserver``.
- ``LINLI_TRUSTED_PROXIES``: comma-separated addresses of reverse proxies (e.g. ``127.0.0.1`` for a
  local nginx). From those, the client address is taken from ``X-Real-IP``; from anyone else the
  header is ignored. Default: none.
- ``LINLI_CSRF_TRUSTED_ORIGINS``: comma-separated origins, when served behind a proxy on another origin.
- ``LINLI_SECURE``: ``1`` when served over HTTPS (secure cookies, HSTS, proxy SSL header).
- ``LINLI_SSL_REDIRECT``: with ``LINLI_SECURE``, redirect plain HTTP to HTTPS. Default on.
- ``LINLI_HSTS_SUBDOMAINS``: with ``LINLI_SECURE``, HSTS covers the host's subdomains too. Default on.
- ``LINLI_HSTS_PRELOAD``: with ``LINLI_SECURE``, ask browsers to preload HSTS for the domain. Default
  off: a preload list entry is hard to undo, so it is the operator's decision (docs/operations.md).
- ``LINLI_SESSION_HOURS``: idle session lifetime in hours. Default 12.
- ``LINLI_LOGIN_MAX_FAILURES`` / ``LINLI_LOGIN_LOCK_MINUTES``: login lockout. Default 5 / 15.
- ``LINLI_LOG_LEVEL``: Default ``INFO``.
- ``LINLI_VAR_DIR``: where the SQLite file, the secret key and uploads live. Default ``var/``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from linli.core.files import create_once

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("LINLI_VAR_DIR", BASE_DIR / "var"))


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = _flag("LINLI_DEBUG")


def _secret_key() -> str:
    key = os.environ.get("LINLI_SECRET_KEY")
    if key:
        return key
    # A local run without configuration gets a key of its own, kept on disk so that sessions and
    # signed links survive a restart. Production sets LINLI_SECRET_KEY.
    return create_once(VAR_DIR / "secret_key", secrets.token_urlsafe(50)).strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = _list("LINLI_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = _list("LINLI_CSRF_TRUSTED_ORIGINS", "")
LINLI_TRUSTED_PROXIES = frozenset(_list("LINLI_TRUSTED_PROXIES", ""))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",
    "simple_history",
    "linli.core",
    "linli.accounts",
    "linli.places",
    "linli.people",
    "linli.cases",
    "linli.network",
    "linli.party",
    "linli.site",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "linli.core.middleware.QueryWithoutNulMiddleware",
    "linli.core.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "linli.core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "linli.core.middleware.RequestContextMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "linli.urls"
WSGI_APPLICATION = "linli.wsgi.application"

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
                "django.template.context_processors.i18n",
                "linli.site.context_processors.navigation",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------------

_default_sqlite = f"sqlite:///{VAR_DIR / 'linli.sqlite3'}"
DATABASE_URL = os.environ.get("DATABASE_URL") or _default_sqlite
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers go on while one writer writes; IMMEDIATE takes the write lock at the
        # start of a transaction so that two writers queue instead of failing half-way.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            " PRAGMA busy_timeout=20000; PRAGMA cache_size=-65536;"
        ),
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- accounts and security ------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["linli.accounts.backends.PhoneOrUsernameBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "site:home"
LOGOUT_REDIRECT_URL = "accounts:login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login throttling: after this many failures for one login name (or from one address, times four)
# inside the window, further attempts are refused until the lock expires.
LINLI_LOGIN_MAX_FAILURES = int(os.environ.get("LINLI_LOGIN_MAX_FAILURES", "5"))
LINLI_LOGIN_LOCK_MINUTES = int(os.environ.get("LINLI_LOGIN_LOCK_MINUTES", "15"))

SESSION_COOKIE_AGE = int(float(os.environ.get("LINLI_SESSION_HOURS", "12")) * 3600)
SESSION_SAVE_EVERY_REQUEST = True  # idle expiry: the clock restarts on every request
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

if _flag("LINLI_SECURE"):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _flag("LINLI_HSTS_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = _flag("LINLI_HSTS_PRELOAD")
    SECURE_SSL_REDIRECT = _flag("LINLI_SSL_REDIRECT", True)

# --- language and time ----------------------------------------------------------------------------

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "linli" / "locale"]
LANGUAGE_COOKIE_NAME = "linli_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

# --- static files ---------------------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns at start-up if it is missing
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"
WHITENOISE_USE_FINDERS = DEBUG

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LINLI_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

NINJA_PAGINATION_PER_PAGE = 50
