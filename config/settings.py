"""Settings for Model Catalog, driven by environment variables (see README: Configuration)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name, "")
    return [item.strip() for item in value.split(",") if item.strip()] or default


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def secret_key_from_file(path: Path) -> str:
    """The key kept in path, created once with a random key readable by its owner alone."""
    try:
        # O_EXCL: of two processes starting at once, one creates the key and the other reads it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text().strip()
        if not key:
            raise ImproperlyConfigured(f"SECRET_KEY_FILE {path} is empty.") from None
        return key
    with os.fdopen(fd, "w") as file:
        key = get_random_secret_key()
        file.write(key + "\n")
    return key


DEBUG = env_bool("DJANGO_DEBUG")
# Served over plain HTTP on this machine only (the demo): production settings without the HTTPS-only ones.
LOCAL_HTTP = env_bool("DJANGO_LOCAL_HTTP")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY and os.environ.get("SECRET_KEY_FILE"):
    SECRET_KEY = secret_key_from_file(Path(os.environ["SECRET_KEY_FILE"]))
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-for-local-demo-use-never-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG or LOCAL_HTTP else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",  # OpClass in the catalog's trigram indexes; lookups only on PostgreSQL
    "django_htmx",
    "django_filters",
    "guardian",
    "template_partials",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "catalog",
    "approvals",
    "activity",
    "notifications",
    "api",
    "mlflow_compat",
    "bench",
    "axes",
    "csp",
    "accounts",
    "webhooks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.time_zone_middleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "catalog.middleware.access_middleware",
    "core.middleware.unstorable_text_middleware",
    "axes.middleware.AxesMiddleware",
]

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
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "notifications.context_processors.nav",  # the inbox and notification badges, in one query
            ],
            "builtins": ["django_htmx.templatetags.django_htmx"],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the demo server read while a seed command writes.
    DATABASES["default"].setdefault("OPTIONS", {})["init_command"] = "PRAGMA journal_mode=WAL;"
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif env_int("DATABASE_POOL", 0) > 0:
    # Django's psycopg pool, per process: a request borrows a connection and gives it back, with no health-check
    # round trip (a broken connection is dropped when it comes back). It replaces persistent connections.
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {"min_size": 1, "max_size": env_int("DATABASE_POOL", 0)}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and not env_bool("DATABASE_PGBOUNCER"):
    # No JIT compilation: the permission subqueries make PostgreSQL overestimate short queries past jit_above_cost,
    # and compiling one took 46 ms of the home page's 112 (at 1,000,000 log entries) to run a 6 ms query. PgBouncer
    # refuses startup options: there, set it on the role (setup_db_roles --create-roles does) or in connect_query.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
if env_bool("DATABASE_PGBOUNCER"):
    # Behind PgBouncer in transaction pooling mode, two transactions of one connection may run on two server
    # connections: nothing may outlive a transaction. Django's only such state is a server-side cursor held outside a
    # transaction (QuerySet.iterator() in autocommit); the app's own (the exports' keyset chunks, the log chain's
    # pg_advisory_xact_lock) never does. The time zone PgBouncer carries over itself.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # guardian: anonymous visitors get no object permissions
GUARDIAN_RAISE_403 = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "catalog:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "var" / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Model Catalog <catalog@localhost>")

PAGE_SIZE = 24

# Background tasks: Django's task framework (the django-tasks backport). The database backend needs nothing beyond the
# database and runs in `manage.py db_worker`; TASK_BACKEND=redis moves the queue to Redis (django-tasks-rq, workers
# run with `manage.py rqworker default --with-scheduler --job-class django_tasks_rq.backend.Job`). Mail and
# webhook deliveries are tasks: nothing leaves a web request.
TASK_BACKEND = os.environ.get("TASK_BACKEND", "database").strip().lower()
if TASK_BACKEND == "redis":
    INSTALLED_APPS.append("django_rq")
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    RQ_QUEUES = {"default": {"URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")}}
elif TASK_BACKEND == "database":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
else:
    raise ImproperlyConfigured(f"TASK_BACKEND must be database or redis, not {TASK_BACKEND!r}.")
# A mail the server refuses is tried again this many times in all, waiting MAIL_RETRY_SECONDS, then twice as long...
MAIL_MAX_ATTEMPTS = env_int("MAIL_MAX_ATTEMPTS", 5)
MAIL_RETRY_SECONDS = float(os.environ.get("MAIL_RETRY_SECONDS", "60"))

# Webhooks: plain-HTTP URLs and destinations on private, loopback or link-local networks are refused unless allowed
# (the demo allows both, so that a receiver on the same machine works).
WEBHOOK_ALLOW_HTTP = env_bool("WEBHOOK_ALLOW_HTTP")
WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE")
WEBHOOK_CONNECT_TIMEOUT = float(os.environ.get("WEBHOOK_CONNECT_TIMEOUT", "5"))
WEBHOOK_READ_TIMEOUT = float(os.environ.get("WEBHOOK_READ_TIMEOUT", "10"))
# Retries wait WEBHOOK_RETRY_SECONDS, then about twice as long each time (with jitter, at most 6 hours), up to
# WEBHOOK_MAX_ATTEMPTS attempts: about 24 hours with the defaults. Then the delivery is marked failed.
WEBHOOK_RETRY_SECONDS = float(os.environ.get("WEBHOOK_RETRY_SECONDS", "30"))
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 13)
# A webhook whose deliveries failed this many times in a row is disabled (and its Owners are told on its page).
WEBHOOK_DISABLE_AFTER = env_int("WEBHOOK_DISABLE_AFTER", 5)
# Delivery log entries older than this are pruned (manage.py prune_webhook_deliveries).
WEBHOOK_LOG_DAYS = env_int("WEBHOOK_LOG_DAYS", 30)

# Production hardening; all of it is on unless DEBUG, and the HTTPS-only part unless LOCAL_HTTP.
HTTPS_ONLY = not DEBUG and not LOCAL_HTTP
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS_ONLY)
SESSION_COOKIE_SECURE = HTTPS_ONLY
CSRF_COOKIE_SECURE = HTTPS_ONLY
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 30 if HTTPS_ONLY else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS_ONLY
# The HSTS preload list refuses a max-age under one year, so `preload` is sent only from one year on (on by default
# there); asking for it with a shorter max-age is a configuration error rather than a header browsers would refuse.
HSTS_PRELOAD_MIN_SECONDS = 60 * 60 * 24 * 365
if env_bool("SECURE_HSTS_PRELOAD") and SECURE_HSTS_SECONDS < HSTS_PRELOAD_MIN_SECONDS:
    raise ImproperlyConfigured(
        f"SECURE_HSTS_PRELOAD needs SECURE_HSTS_SECONDS of at least {HSTS_PRELOAD_MIN_SECONDS} (one year): "
        "the preload list refuses a shorter max-age."
    )
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS >= HSTS_PRELOAD_MIN_SECONDS and env_bool("SECURE_HSTS_PRELOAD", True)
# check --deploy suggests preload (security.W021); below one year of max-age the preload list would refuse it.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): scripts and styles only from our own static files, no inline code and no
# eval, so an injected tag or attribute does nothing. htmx is told not to inject its indicator style (base.html).
# CSP_REPORT_ONLY=1 sends the same policy as Content-Security-Policy-Report-Only: browsers report, nothing breaks.
_csp_directives = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],  # data: for the empty favicon (and the API docs' inline icons)
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
# (No setting named CSP_*: django-csp takes those for its old format and refuses to start.)
_csp_report_only = env_bool("CSP_REPORT_ONLY")
CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": _csp_directives} if _csp_report_only else None
CONTENT_SECURITY_POLICY = None if _csp_report_only else {"DIRECTIVES": _csp_directives}

# Permissions-Policy (django-permissions-policy): no page uses these browser features, so none may, not even a
# frame; browsing-topics is the interest-cohort of today.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# Where the application is reachable, for links in mail.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# Failed sign-ins (the login form, the admin's, API tokens) lock the username and, separately, the client address
# out for a cool-off period (django-axes; the attempts are listed under "Axes" in the admin).
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = "core.lockout.lockout_parameters"
AXES_LOCKOUT_CALLABLE = "core.lockout.lockout_response"
AXES_USERNAME_CALLABLE = "core.lockout.client_username"
# A success does not clear earlier failures (they expire with the cool-off): otherwise signing in to an account of
# one's own would reset the address's count between guesses at someone else's.
AXES_RESET_ON_SUCCESS = False
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # each failure, with its path and time, for an admin to read
# Behind a reverse proxy, the number of proxies in front of the app, so that the client's address is read from
# X-Forwarded-For; 0 reads the connection's own address (and ignores a forwarded header a client could forge).
AXES_IPWARE_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if AXES_IPWARE_PROXY_COUNT else ["REMOTE_ADDR"]
)
