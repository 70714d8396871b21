"""Project settings, driven by environment variables (see README: Configuration).

DEBUG is off unless DEBUG=1 is set (`make demo` and the test settings, config/settings_test.py,
set it): a forgotten variable must not show tracebacks full of personal data. With DEBUG=1 and
nothing else set the project runs for development: SQLite in the project directory and a
development secret. Production sets SECRET_KEY, ALLOWED_HOSTS and DATABASE_URL at least.
"""

from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import env_bool, env_int, env_list, env_path, env_str, parse_database_url
from config.storage import default_storage_from_env

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", default=False)

_DEV_SECRET = "dev-only-insecure-secret-key-do-not-use-in-production-0123456789"
SECRET_KEY = env_str("SECRET_KEY") or ""
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY: must be set when DEBUG is off")
    SECRET_KEY = _DEV_SECRET
elif len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("SECRET_KEY: must be at least 32 characters long")

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "config.admin_site.ReliefAdminConfig",  # django.contrib.admin, its app list built lazily
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "config.apps.AxesConfig",  # axes, named in Chinese
    "csp",
    "import_export",
    "unions",
    "relief",
    "reports",
    "privacy",
    "backups",
    "notifications",
    "config.apps.TasksDbConfig",  # django_tasks_db, named in Chinese
]

# Background jobs (reports): django-tasks with its database backend; run the worker with
# `manage.py db_worker`. Reports under REPORTS_DIRECT_MAX_ROWS rows are rendered in the request.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
REPORTS_DIRECT_MAX_ROWS = env_int("REPORTS_DIRECT_MAX_ROWS", default=300, minimum=0)
# Ledger exports above this many rows, asked for from the reports page, are written by the
# worker too (the page shows progress); smaller ones stream in the request.
EXPORTS_DIRECT_MAX_ROWS = env_int("EXPORTS_DIRECT_MAX_ROWS", default=20_000, minimum=0)
REPORTS_PDF_PROCESSES = env_int("REPORTS_PDF_PROCESSES", default=1, minimum=1)
# Generated report files (and their jobs) older than this many days are deleted by the worker
# after each report it writes (reports.files.purge): they can be generated again.
REPORT_FILES_KEEP_DAYS = env_int("REPORT_FILES_KEEP_DAYS", default=7, minimum=1)

# Notifications (notifications/): links in robot and e-mail messages are absolute, from
# SITE_URL (e.g. https://relief.example.org); without it they are paths only.
SITE_URL = (env_str("SITE_URL") or "").rstrip("/")
# Group robots may only be sent to the vendors' own hosts over HTTPS (no requests to inner
# addresses from an address typed into the admin); the tests point these at a loopback port.
NOTIFY_WEBHOOK_HOSTS = {
    "wecom": ["qyapi.weixin.qq.com"],
    "dingtalk": ["oapi.dingtalk.com"],
}
NOTIFY_WEBHOOK_SCHEMES = ["https"]
NOTIFY_WEBHOOK_TIMEOUT = env_int("NOTIFY_WEBHOOK_TIMEOUT", default=10, minimum=1)
# A failed robot or e-mail message is tried this many times in all, waiting
# NOTIFY_RETRY_SECONDS, then twice, four times as long ... between tries.
NOTIFY_MAX_ATTEMPTS = env_int("NOTIFY_MAX_ATTEMPTS", default=5, minimum=1)
NOTIFY_RETRY_SECONDS = env_int("NOTIFY_RETRY_SECONDS", default=60, minimum=1)
# A delivery still waiting this long after it was due lost its task (the queueing failed):
# notifications.tasks.requeue_stale queues it again.
NOTIFY_REQUEUE_SECONDS = env_int("NOTIFY_REQUEUE_SECONDS", default=600, minimum=1)

# E-mail (notifications to users with an address) only when EMAIL_HOST is set.
EMAIL_HOST = env_str("EMAIL_HOST") or ""
EMAIL_PORT = env_int("EMAIL_PORT", default=25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL") or "relief@localhost"
NOTIFY_EMAIL = bool(EMAIL_HOST)

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.security.IdleTimeoutMiddleware",
    "config.security.NoStoreMiddleware",
    "config.security.SignOutClearsStorageMiddleware",
    "config.security.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    # Late, as axes asks: it turns a refused sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
    # Last, so its process_exception runs first: conflicts become a message, a database
    # outage a 503 with Retry-After (relief.middleware).
    "relief.middleware.DatabaseFaultMiddleware",
]
# Longest wait for a row lock inside the services' transactions on PostgreSQL; past it the
# user is told someone else is changing the case (relief.conflicts), not kept waiting.
RELIEF_LOCK_TIMEOUT_MS = env_int("RELIEF_LOCK_TIMEOUT_MS", default=5000, minimum=100)
# /healthz reports the background worker missing when a due task waited longer than this.
RELIEF_WORKER_STALE_SECONDS = env_int("RELIEF_WORKER_STALE_SECONDS", default=300, minimum=10)

# Only the language chosen in the switcher (cookie) changes the language; browsers' own
# Accept-Language is ignored, so the interface is Chinese unless a user picks English.
MIDDLEWARE[MIDDLEWARE.index("django.middleware.locale.LocaleMiddleware")] = (
    "config.locale.CookieLocaleMiddleware"
)
if not DEBUG:
    # WhiteNoise serves the collected static files in production (no CDN, no web server
    # setup); with DEBUG, runserver serves them from the app folders.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "notifications.context_processors.unread",
            ],
        },
    },
]

DATABASES = {
    "default": parse_database_url(
        "DATABASE_URL",
        env_str("DATABASE_URL") or "sqlite:///db.sqlite3",
        base_dir=BASE_DIR,
    )
}
# A PostgreSQL streaming replica for the figures pages and report rendering (config/replica.py);
# the primary takes every write and every other read.
if env_str("REPLICA_DATABASE_URL"):
    DATABASES["replica"] = parse_database_url(
        "REPLICA_DATABASE_URL", env_str("REPLICA_DATABASE_URL"), base_dir=BASE_DIR
    )
REPORTS_READ_FROM_REPLICA = "replica" in DATABASES
DATABASE_ROUTERS = ["config.replica.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "unions.User"
# Sign-in throttling (django-axes) on /login/ and /admin/login/, counted two ways
# (config.throttling):
# - a username is locked after LOGIN_FAILURE_LIMIT wrong passwords from any addresses, so
#   spreading guesses over many machines does not help;
# - an address is locked after LOGIN_ADDRESS_FAILURE_LIMIT wrong passwords across usernames, so
#   one machine cannot try a few passwords on every account. It is much larger because a town
#   federation or an enterprise puts all its staff behind one NAT address: one person's typos
#   must not lock their colleagues out; a success clears that user's failures from the count.
# A lock lasts LOGIN_LOCKOUT_MINUTES, or until a district officer or an administrator deletes
# the attempts in the admin (登录尝试).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, the user read with their union and the permissions in one query
    "unions.backends.UnionModelBackend",
]
AXES_HANDLER = "config.throttling.UserOrAddressHandler"
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", default=5, minimum=1)
LOGIN_ADDRESS_FAILURE_LIMIT = env_int(
    "LOGIN_ADDRESS_FAILURE_LIMIT", default=6 * AXES_FAILURE_LIMIT, minimum=AXES_FAILURE_LIMIT
)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", default=60, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_LOCKOUT_CALLABLE = "config.security.lockout_response"
AXES_CLIENT_IP_CALLABLE = "config.security.axes_client_ip"
AXES_USERNAME_CALLABLE = "config.security.axes_username"
AXES_RESET_ON_SUCCESS = True
# Successful sign-ins are not recorded by axes (the privacy app logs who read what); failures
# are, in the admin's access attempts and failure log.
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_VERBOSE = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env_path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded attachments hold personal data: they live outside STATIC/public paths and are
# served only through views that check the user's scope (MEDIA_URL is deliberately unused).
MEDIA_ROOT = env_path("MEDIA_ROOT", default=BASE_DIR / "media")
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# Attachments and generated reports: the folder MEDIA_ROOT by default, or an S3-compatible
# bucket with MEDIA_STORAGE=s3 and the AWS_* variables (config/storage.py, README).
STORAGES = {
    "default": default_storage_from_env(),
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Set when a reverse proxy (nginx, a load balancer) terminates HTTPS in front of the app: then
# X-Forwarded-Proto says whether the request was HTTPS and the last X-Forwarded-For entry is
# the client's address (privacy.access.client_ip, for the access log). Never set it without
# such a proxy: clients could then forge both headers.
BEHIND_HTTPS_PROXY = env_bool("BEHIND_HTTPS_PROXY", default=False)

# Sessions end at SESSION_COOKIE_AGE after sign-in whatever the user does (the absolute limit:
# the session's expiry is set once, at sign-in, since it is not saved on every request), and
# after SESSION_IDLE_TIMEOUT seconds without a request (config.security.IdleTimeoutMiddleware).
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", default=8 * 3600, minimum=300)
SESSION_IDLE_TIMEOUT = env_int("SESSION_IDLE_TIMEOUT", default=30 * 60, minimum=60)
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Sent on every response (config.security.PermissionsPolicyMiddleware): the site uses no camera
# (photos are chosen with the file input), microphone, location, payment or USB.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
# Content Security Policy (django-csp): scripts, styles, images and fonts only from the site
# itself, no inline script or style anywhere (templates keep theirs in static/). Django's
# admin needs nothing more (checked by tests/browser/test_csp.py in Chromium).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
# models.W040: a covering index's INCLUDE columns (migration 0021, for PostgreSQL's index-only
# scans at scale) are left out on SQLite, which has no such indexes; the index still works there.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    # Behind a proxy that terminates HTTPS, BEHIND_HTTPS_PROXY=1 tells Django the request was
    # HTTPS, so this redirect does not loop.
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
    if BEHIND_HTTPS_PROXY:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    if not SECURE_HSTS_PRELOAD:
        # Asking browsers to preload the domain is its owner's decision (hard to undo, binds
        # every subdomain); an intranet name cannot be preloaded at all.
        SILENCED_SYSTEM_CHECKS += ["security.W021"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
    "loggers": {
        # WeasyPrint only has a NullHandler: without this its font warnings are never seen.
        "weasyprint": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}
