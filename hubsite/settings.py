"""Settings for BOINC AI Hub.

Everything a deployment changes comes from the environment (see README, "Configuration").
The embedded defaults are for local development only: SQLite under var/, console email,
tasks run immediately, and the "local" DOI registrar that registers nothing outside.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
import dj_email_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from hubsite.caching import release_digest
from hubsite.env import env_bool, env_float, env_int, env_list, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("HUB_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DJANGO_DEBUG", default=False)
TESTING = "pytest" in sys.modules

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it to a long random string "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))'), "
            "or set DJANGO_DEBUG=true for local development."
        )
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", default=[])
if not ALLOWED_HOSTS:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured(
            "DJANGO_ALLOWED_HOSTS is not set. Set it to the comma-separated host names "
            "the site is served under, e.g. DJANGO_ALLOWED_HOSTS=hub.example.org."
        )
    ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

SITE_URL = env_url("SITE_URL", "http://127.0.0.1:8000")
SITE_NAME = env_str("SITE_NAME", "BOINC AI Hub")
CSRF_TRUSTED_ORIGINS = [SITE_URL]

INSTALLED_APPS = [
    "hubsite.apps.HubAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_tasks_db",
    "axes",
    "accounts",
    "repos",
    "doi",
    "support",
    "hubapi",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "hubsite.middleware.reject_nul_bytes",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "hubsite.middleware.StoreUnavailableMiddleware",
    # Last: turns a refused log-in into the log-in page saying when to try again.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "hubsite.urls"
WSGI_APPLICATION = "hubsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "hubsite.context_processors.site",
                "django.template.context_processors.csp",
            ],
        },
    },
]

if not env_str("DATABASE_URL"):
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'hub.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # For concurrent web use: readers never wait for the writer (WAL); a transaction takes the
    # write lock when it begins (IMMEDIATE), so two writers queue for up to SQLITE_BUSY_TIMEOUT
    # seconds instead of failing with "database is locked" when one upgrades a read lock.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": env_int("SQLITE_BUSY_TIMEOUT", 20, minimum=1),
        "init_command": ("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL"),
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's, with CONN_HEALTH_CHECKS only for a connection that sat unused (see its module).
    DATABASES["default"]["ENGINE"] = "hubsite.postgresql"
    if env_bool("DATABASE_PREPARED_STATEMENTS", True):
        # The hottest pages' queries (hubsite.queries.Prepared) become prepared statements once
        # a connection has run them five times, so PostgreSQL plans each once per connection
        # instead of on every request. Django's other queries are never prepared. Off (false)
        # behind a pooler that hands one connection to several clients and cannot keep
        # prepared statements apart (PgBouncer in transaction mode before 1.21).
        DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
# Log-in throttling (django-axes): LOGIN_FAILURE_LIMIT failed log-ins from one address, or for
# one username, pause log-ins from there or for it until LOGIN_LOCKOUT_MINUTES after the last
# failure (shown on the log-in page). Staff unlock early in the admin (Axes → Access attempts).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
# A log-in to an account of the attacker's own must not wipe the count of their failures.
AXES_RESET_ON_SUCCESS = False
# Tries during the pause are refused without extending it, so the time shown stays true.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_DISABLE_ACCESS_LOG = True  # failures are what is needed; no log of every log-in
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.client_ip"
AXES_USERNAME_CALLABLE = "accounts.lockout.username"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
# Reverse proxies in front of the site that append the client's address to X-Forwarded-For.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
# Accounts that may be created from one address in an hour (0: no limit).
SIGNUPS_PER_IP_PER_HOUR = env_int("SIGNUPS_PER_IP_PER_HOUR", 10)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# collectstatic's target, used in production only; development and tests serve from the finders.
STATIC_ROOT = BASE_DIR / "staticfiles" if not (DEBUG or TESTING) else None
WHITENOISE_USE_FINDERS = DEBUG or TESTING
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "media/"
# Repository files: local disk under MEDIA_ROOT, or an S3-compatible object store once S3_BUCKET
# is set (the store every web server of a hub shares).
S3_BUCKET = env_str("S3_BUCKET")
_s3_endpoint = env_url("S3_ENDPOINT_URL", "") if env_str("S3_ENDPOINT_URL") else None
_s3_addressing = env_str("S3_ADDRESSING_STYLE", "path")
if _s3_addressing not in ("path", "virtual"):
    raise ImproperlyConfigured(
        f"S3_ADDRESSING_STYLE must be one of path, virtual, not {_s3_addressing!r}."
    )
# Files larger than this are downloaded straight from the store, through a short-lived presigned
# URL, instead of through a web worker.
S3_REDIRECT_DOWNLOADS_OVER_MB = env_int("S3_REDIRECT_DOWNLOADS_OVER_MB", 10)
STORAGES = {
    "default": (
        {
            "BACKEND": "hubsite.storage.ObjectStorage",
            "OPTIONS": {
                "bucket_name": S3_BUCKET,
                # A folder of the bucket, so that hubs (or a test and staging) can share one.
                "location": env_str("S3_LOCATION").strip("/"),
                "endpoint_url": env_url("S3_ENDPOINT_URL", "")
                if env_str("S3_ENDPOINT_URL")
                else None,
                "access_key": env_str("S3_ACCESS_KEY_ID") or None,
                "secret_key": env_str("S3_SECRET_ACCESS_KEY") or None,
                "region_name": env_str("S3_REGION", "us-east-1"),
                "addressing_style": _s3_addressing,
                "signature_version": "s3v4",
                "querystring_expire": env_int("S3_PRESIGNED_URL_SECONDS", 300, minimum=1),
                "default_acl": None,
            },
        }
        if S3_BUCKET
        else {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    ),
    "staticfiles": {
        # Manifest storage needs collectstatic, which only production runs.
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not (DEBUG or TESTING)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Largest upload accepted in one commit (all files together), in megabytes.
REPO_UPLOAD_MAX_MB = env_int("REPO_UPLOAD_MAX_MB", 50, minimum=1)
# With an object store, the API client sends files of LFS_THRESHOLD_MB or more straight to it.
LFS_THRESHOLD_MB = env_int("LFS_THRESHOLD_MB", 10, minimum=1)
LFS_MAX_FILE_MB = env_int("LFS_MAX_FILE_MB", 50 * 1024, minimum=1)
LFS_REPO_QUOTA_MB = env_int("LFS_REPO_QUOTA_MB", 500 * 1024, minimum=1)
# A large file over LFS_PART_SIZE_MB goes to the store in parts of that size (S3's smallest part
# is 5 MB), each part's URL and the upload's completion address valid for LFS_UPLOAD_HOURS
# (presigned URLs last a week at most).
LFS_PART_SIZE_MB = env_int("LFS_PART_SIZE_MB", 64, minimum=5)
LFS_UPLOAD_HOURS = env_int("LFS_UPLOAD_HOURS", 24, minimum=1)
if LFS_UPLOAD_HOURS > 7 * 24:
    raise ImproperlyConfigured(
        f"LFS_UPLOAD_HOURS must be at most 168 (a week, the longest a presigned URL lasts), "
        f"not {LFS_UPLOAD_HOURS}."
    )
# Largest README.md used as a model card, in kilobytes: a bigger one stays a file of the
# repository but is not rendered, and its metadata is ignored.
CARD_MAX_KB = env_int("CARD_MAX_KB", 256, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Rendered model cards and pieces of pages, each keyed by what it shows (hubsite/caching.py):
# in each process's memory, or with CACHE_URL in one Redis all processes and machines share
# (Django's backend, missing rather than failing while Redis does not answer).
_cache_url = env_str("CACHE_URL")
if _cache_url and not _cache_url.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(
        f"CACHE_URL must be a Redis URL (redis://host:6379/0, rediss://…, unix://…), "
        f"not {_cache_url!r}."
    )
CACHES = {
    "default": (
        {"BACKEND": "hubsite.redis_cache.RedisCache", "LOCATION": _cache_url}
        if _cache_url
        else {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": 3000},
        }
    )
}
CACHES["default"]["KEY_PREFIX"] = release_digest(BASE_DIR)

_email = dj_email_url.parse(env_str("EMAIL_URL") or "console://")
if "EMAIL_BACKEND" not in _email:
    raise ImproperlyConfigured(
        f"EMAIL_URL must start with one of {', '.join(dj_email_url.SCHEMES)}:// "
        "(e.g. submission://user:password@smtp.example.org:587 for SMTP with STARTTLS)."
    )
_smtp_options = {
    "host": _email["EMAIL_HOST"],
    "port": _email["EMAIL_PORT"],
    "username": _email["EMAIL_HOST_USER"],
    "password": _email["EMAIL_HOST_PASSWORD"],
    "use_tls": _email["EMAIL_USE_TLS"],
    "use_ssl": _email["EMAIL_USE_SSL"],
    "timeout": 10,
}
MAILERS = {
    "default": {
        "BACKEND": _email["EMAIL_BACKEND"],
        "OPTIONS": _smtp_options if _email["EMAIL_BACKEND"].endswith(".smtp.EmailBackend") else {},
    }
}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", f"{SITE_NAME} <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
SUPPORT_EMAIL = env_str("SUPPORT_EMAIL", "support@localhost")
# Support requests one user may file in 24 hours (0: no limit).
SUPPORT_REQUESTS_PER_USER_PER_DAY = env_int("SUPPORT_REQUESTS_PER_USER_PER_DAY", 5)

_TASK_BACKENDS = {
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
    "database": "django_tasks_db.DatabaseBackend",
}
_task_backend = env_str("TASKS_BACKEND", "immediate")
if _task_backend not in _TASK_BACKENDS:
    raise ImproperlyConfigured(
        f"TASKS_BACKEND must be one of {', '.join(_TASK_BACKENDS)}, not {_task_backend!r}."
    )
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[_task_backend]}}

# DOIs (see README, "DOIs").
DOI_REGISTRAR = env_str("DOI_REGISTRAR", "local")
DOI_PREFIX = env_str("DOI_PREFIX", "10.5072")
DOI_SUFFIX_PATTERN = env_str("DOI_SUFFIX_PATTERN", "hub/{number:04d}")
DOI_CONCEPT_DOIS = env_bool("DOI_CONCEPT_DOIS", default=True)
DOI_PUBLISHER_ROR = env_str("DOI_PUBLISHER_ROR")
# DOIs are permanent: at most this many new version DOIs in 24 hours (0: no limit).
DOI_QUOTA_PER_REPO_PER_DAY = env_int("DOI_QUOTA_PER_REPO_PER_DAY", 3)
DOI_QUOTA_PER_USER_PER_DAY = env_int("DOI_QUOTA_PER_USER_PER_DAY", 10)
DATACITE_API_URL = env_url("DATACITE_API_URL", "https://api.test.datacite.org")
DATACITE_REPOSITORY_ID = env_str("DATACITE_REPOSITORY_ID")
DATACITE_PASSWORD = env_str("DATACITE_PASSWORD")
# With TASKS_BACKEND=immediate a registration runs inside the owner's request: retry a transient
# failure this many times, waiting DOI_INLINE_RETRY_WAIT seconds (doubling), then leave it to
# manage.py doi_sync.
DOI_INLINE_RETRIES = env_int("DOI_INLINE_RETRIES", 1)
DOI_INLINE_RETRY_WAIT = env_float("DOI_INLINE_RETRY_WAIT", 0.5)
# DataCite allows 3000 requests in 5 minutes per address; each process (a web worker, the task
# worker, doi_sync) spaces its own requests evenly at this rate (0: no limit).
DATACITE_REQUESTS_PER_MINUTE = env_int("DATACITE_REQUESTS_PER_MINUTE", 500)
# `doi_sync --every` (what scripts/serve runs) also fetches DataCite's counts and citing works
# once the last fetch is this many hours old (0: never; cron runs `doi_sync --counts` instead).
DOI_COUNTS_EVERY_HOURS = env_float("DOI_COUNTS_EVERY_HOURS", 24)
DATACITE_TIMEOUT = (
    env_int("DATACITE_CONNECT_TIMEOUT", 5, minimum=1),
    env_int("DATACITE_READ_TIMEOUT", 30, minimum=1),
)

SESSION_ENGINE = "accounts.sessions"  # the database's, read with SQL compiled once
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Scripts and styles only from our own static files (or carrying the page's nonce), images from
# here alone: a model card's remote image would tell its host who views the repository.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG and SITE_URL.startswith("https://"):
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
