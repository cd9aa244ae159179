"""Settings, read from the environment (12-factor).

DATABASE_URL  default: an embedded SQLite file in var/; postgres://user@host:port/name for PostgreSQL
SECRET_KEY    required unless DEBUG is on
DEBUG         "1"/"true" turns it on; off by default
ALLOWED_HOSTS comma-separated; defaults to localhost names when DEBUG is on
"""

import os
from pathlib import Path

import structlog
from django.core.exceptions import ImproperlyConfigured

from oms.databases import databases_from_env

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    # Development only: a fixed key so sessions survive restarts of the demo server.
    SECRET_KEY = "dev-insecure-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # The admin's theme (issue 9): before django.contrib.admin so its templates win.
    "unfold",
    "unfold.contrib.filters",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular_sidecar",
    "django_tasks_db",
    "crontask",
    "django_structlog",
    "oms",
    "oms.oauth",
    "markets",
    "orders",
    "payments",
    "fulfillment",
    "oms.webhooks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # a request id (X-Request-ID from the proxy, or a new one) bound to every log line of the
    # request and of the tasks it enqueues
    "django_structlog.middlewares.RequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "oms.urls"

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
            ],
        },
    },
]

WSGI_APPLICATION = "oms.wsgi.application"

# --- database -------------------------------------------------------------------------------
# DATABASE_URL, DATABASE_REPLICA_URL and how connections are kept (OMS_DB_CONNECTIONS): see
# oms/databases.py.
VAR_DIR = BASE_DIR / "var"
DEFAULT_SQLITE_URL = f"sqlite:///{VAR_DIR / 'oms.sqlite3'}"
DATABASES = databases_from_env(sqlite_dir=VAR_DIR, default_url=DEFAULT_SQLITE_URL)
DATABASE_ROUTERS = ["oms.routers.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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

# --- the back office (django-unfold) ----------------------------------------------------------
UNFOLD = {
    "SITE_TITLE": "OMS",
    "SITE_HEADER": "OMS back office",
    "SITE_SUBHEADER": "Run your business",
    "SITE_SYMBOL": "storefront",
    "SITE_FAVICONS": "oms.navigation.favicons",
    "SHOW_VIEW_ON_SITE": False,
    "STYLES": ["oms.navigation.styles"],
    "DASHBOARD_CALLBACK": "orders.dashboard.dashboard_callback",
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": False,
        "navigation": "oms.navigation.navigation",
    },
    "COLORS": {
        # The demo organization's green (oklch of #1f6f43 and its shades).
        "primary": {
            "50": "oklch(97.9% .021 155.8)",
            "100": "oklch(95.0% .052 155.8)",
            "200": "oklch(90.1% .093 155.8)",
            "300": "oklch(82.3% .137 155.8)",
            "400": "oklch(71.2% .160 155.8)",
            "500": "oklch(60.2% .142 155.8)",
            "600": "oklch(50.8% .118 155.8)",
            "700": "oklch(45.3% .101 155.8)",
            "800": "oklch(38.6% .083 155.8)",
            "900": "oklch(32.9% .068 155.8)",
            "950": "oklch(23.4% .050 155.8)",
        },
    },
}
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Served by WhiteNoise from the server processes (compressed, with far-future cache headers on
# hashed names after `collectstatic`); a CDN or the load balancer can cache them in front.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- cache: shared by every server process ------------------------------------------------
# REDIS_URL set: Redis (rate limits counted with INCR). Otherwise the database's cache table
# (created by `manage.py oms_prepare`; rate limits have their own table, see oms/ratelimit.py).
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "oms_cache"}
}
# django-structlog hands a request's log context (its request id) to the tasks it enqueued
# through this cache: the shared one, under its own prefix.
CACHES["django_structlog"] = {
    **CACHES["default"],
    "KEY_PREFIX": "structlog",
    "TIMEOUT": 86400,  # type: ignore[dict-item]
}

# --- security: production-safe unless DEBUG is on ------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # A load balancer's health checks talk plain HTTP to each node.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_REFERRER_POLICY = "same-origin"

# --- the API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["oms.oauth.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["oms.api.permissions.RolePermission"],
    "DEFAULT_RENDERER_CLASSES": ["oms.api.renderers.JSONAPIRenderer"],
    "DEFAULT_PARSER_CLASSES": ["oms.api.parsers.JSONAPIParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "oms.api.negotiation.JSONAPIContentNegotiation",
    "DEFAULT_PAGINATION_CLASS": "oms.api.pagination.Pagination",
    "EXCEPTION_HANDLER": "oms.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "vnd.api+json",
    "TEST_REQUEST_RENDERER_CLASSES": ["oms.api.renderers.JSONAPIRenderer"],
    "COERCE_DECIMAL_TO_STRING": False,
}

# --- the product ----------------------------------------------------------------------------
OMS_ORGANIZATION_DOMAIN = os.environ.get("OMS_ORGANIZATION_DOMAIN", "commercelayer.io")
# The API's public base URL, for the links of documents rendered outside a request (webhook
# payloads): by default the first ALLOWED_HOSTS name (https unless DEBUG), else localhost.
_PUBLIC_HOST = next(
    (host for host in ALLOWED_HOSTS if host not in ("*", "") and not host.startswith(".")),
    "localhost",
)
OMS_PUBLIC_URL = os.environ.get(
    "OMS_PUBLIC_URL", f"{'http' if DEBUG else 'https'}://{_PUBLIC_HOST}"
).rstrip("/")
OMS_DEFAULT_LOCALE = os.environ.get("OMS_DEFAULT_LOCALE", "en")
# The longest one payment gateway call may take, in seconds, from connecting to the last byte of
# the answer (a gateway's own `timeout_ms` can only shorten it): a slow or dripping gateway
# cannot hold a worker longer than this. A call past it fails as GATEWAY_TIMEOUT.
OMS_GATEWAY_TIMEOUT_SECONDS = float(os.environ.get("OMS_GATEWAY_TIMEOUT_SECONDS", "10"))
# A placement still placing this long after its attempt started (or its authorization was
# sent) is stale: its process died. `orders_recover_placements` resolves it. Longer than any
# gateway call may take (OMS_GATEWAY_TIMEOUT_SECONDS).
OMS_PLACEMENT_STALE_SECONDS = float(os.environ.get("OMS_PLACEMENT_STALE_SECONDS", "60"))
# The admin's low-stock filter and the dashboard's low-stock list: at most this many available.
OMS_LOW_STOCK_THRESHOLD = int(os.environ.get("OMS_LOW_STOCK_THRESHOLD", "5"))

# Structured logs (structlog, django-structlog): one JSON object per line when DEBUG is off
# (OMS_LOG_FORMAT=console|json overrides), with the request id of the request or task, for
# every request, state change (`oms.orders`: the order number, subject, trigger, from, to), task
# and webhook attempt; every stdlib logger goes through the same formatter.
OMS_LOG_FORMAT = os.environ.get("OMS_LOG_FORMAT", "console" if DEBUG else "json")
_LOG_PRE_CHAIN = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.ExtraAdder(),
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": structlog.stdlib.ProcessorFormatter,
            "processors": [
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(),
            ],
            "foreign_pre_chain": _LOG_PRE_CHAIN,
        },
        "console": {
            "()": structlog.stdlib.ProcessorFormatter,
            "processors": [
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.dev.ConsoleRenderer(colors=False),
            ],
            "foreign_pre_chain": _LOG_PRE_CHAIN,
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if OMS_LOG_FORMAT == "json" else "console",
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
structlog.configure(
    processors=[
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.filter_by_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
    ],
    logger_factory=structlog.stdlib.LoggerFactory(),
    cache_logger_on_first_use=True,
)
DJANGO_STRUCTLOG_DJANGO_TASKS_ENABLED = True
# The load balancer's X-Request-ID (haproxy's unique-id, docs/deploy) names the request in the
# logs of every node it touched; without one, a new id.
DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID = env_bool("OMS_TRUST_REQUEST_ID", True)

# --- oauth ---------------------------------------------------------------------------------
# The token endpoint (/oauth/token) and bearer-token authentication (oms.oauth).
# OMS_JWT_SIGNING_KEY: HS256 key of the access tokens, at least 32 bytes; empty derives one
# from SECRET_KEY. Changing it invalidates every access token issued so far.
OMS_JWT_SIGNING_KEY = os.environ.get("OMS_JWT_SIGNING_KEY", "")
OMS_ACCESS_TOKEN_LIFETIME = int(os.environ.get("OMS_ACCESS_TOKEN_LIFETIME", "7200"))  # seconds
OMS_REFRESH_TOKEN_LIFETIME = int(os.environ.get("OMS_REFRESH_TOKEN_LIFETIME", "2592000"))  # 30 d
# Token requests allowed per client_id and per IP address ("N/s|min|hour|day"; empty: no limit).
# Counted in the default cache: share it (Redis, Memcached, database) across server processes.
OMS_TOKEN_RATE_PER_CLIENT = os.environ.get("OMS_TOKEN_RATE_PER_CLIENT", "60/min")
OMS_TOKEN_RATE_PER_IP = os.environ.get("OMS_TOKEN_RATE_PER_IP", "120/min")
# Dotted path of the callable that checks a customer's username and password for the password
# grant (see oms.oauth.services.CustomerAuthenticator); empty: the grant is unsupported.
OMS_CUSTOMER_AUTHENTICATOR = os.environ.get(
    "OMS_CUSTOMER_AUTHENTICATOR", "orders.services.customers.customer_authenticate"
)
# Customers: storefront sign-ups allowed per IP address ("N/s|min|hour|day"; empty: no limit),
# counted in the same shared store as the token limits (`oms.ratelimit`); password reset requests
# share the limit. How long a password reset token stays valid, and the storefront page a reset
# e-mail links to (`{id}` and `{token}` are filled in; empty: the e-mail carries them as text).
OMS_SIGNUP_RATE_PER_IP = os.environ.get("OMS_SIGNUP_RATE_PER_IP", "20/hour")
# Coupon and gift-card codes a storefront may send on one cart (right or wrong), per window.
OMS_CODE_ATTEMPTS_PER_ORDER = os.environ.get("OMS_CODE_ATTEMPTS_PER_ORDER", "20/hour")
OMS_PASSWORD_RESET_TTL_SECONDS = int(os.environ.get("OMS_PASSWORD_RESET_TTL_SECONDS", "3600"))
OMS_PASSWORD_RESET_URL = os.environ.get("OMS_PASSWORD_RESET_URL", "")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "no-reply@localhost")
# The mailer of those e-mails (Django's MAILERS): SMTP to OMS_SMTP_HOST:OMS_SMTP_PORT unless
# OMS_MAIL_BACKEND names another backend (e.g. django.core.mail.backends.console.EmailBackend).
MAILERS = {
    "default": {
        "BACKEND": os.environ.get(
            "OMS_MAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend"
        ),
        "OPTIONS": {
            name: value
            for name, value in (
                ("host", os.environ.get("OMS_SMTP_HOST", "")),
                ("port", int(os.environ.get("OMS_SMTP_PORT", "0")) or None),
                ("username", os.environ.get("OMS_SMTP_USERNAME", "")),
                ("password", os.environ.get("OMS_SMTP_PASSWORD", "")),
                ("use_tls", os.environ.get("OMS_SMTP_USE_TLS", "") == "1" or None),
            )
            if value
        },
    }
}
# --- end oauth -----------------------------------------------------------------------------

# A request holding an Idempotency-Key (claimed, not finished) for longer than this many
# seconds is taken for dead (a worker killed mid-request): the key may then be retried. Keep it
# above the longest request (gateway timeouts included).
OMS_IDEMPOTENCY_CLAIM_TIMEOUT = int(os.environ.get("OMS_IDEMPOTENCY_CLAIM_TIMEOUT", "60"))

# --- webhooks -------------------------------------------------------------------------------
# Webhook callbacks (oms.webhooks): only https unless OMS_WEBHOOKS_ALLOW_HTTP (on with DEBUG),
# never to a private, loopback or link-local address unless OMS_WEBHOOKS_ALLOW_PRIVATE (an SSRF
# guard, checked on the resolved address at send time). A failed attempt is retried after
# OMS_WEBHOOKS_BACKOFF_SECONDS * 2**(attempts - 1), at most an hour.
OMS_WEBHOOKS_ALLOW_HTTP = os.environ.get("OMS_WEBHOOKS_ALLOW_HTTP", "1" if DEBUG else "") == "1"
OMS_WEBHOOKS_ALLOW_PRIVATE = os.environ.get("OMS_WEBHOOKS_ALLOW_PRIVATE", "") == "1"
OMS_WEBHOOKS_BACKOFF_SECONDS = float(os.environ.get("OMS_WEBHOOKS_BACKOFF_SECONDS", "15"))
# How long a sender owns the deliveries it claimed: past the 5 s call deadline, with room; a
# killed sender's rows go to another once it lapses (at least 6 s).
OMS_WEBHOOKS_LEASE_SECONDS = float(os.environ.get("OMS_WEBHOOKS_LEASE_SECONDS", "60"))
# --- end webhooks ---------------------------------------------------------------------------

# --- tasks ----------------------------------------------------------------------------------
# Background work on `django.tasks` (issue 12). The default backend is the database
# (django-tasks-db): a task is a row written in the transaction that enqueues it, so a crash
# cannot lose it, and `manage.py db_worker` processes run it (several workers claim rows with
# SELECT ... FOR UPDATE SKIP LOCKED: a task never runs twice at once). `manage.py crontask`
# enqueues the periodic jobs of `oms/schedule.py`. OMS_TASKS_BACKEND=immediate runs each task
# in the process that enqueued it, after its transaction commits (a quick local loop only).
# OMS_TASKS_BACKEND=redis queues tasks in Redis (django-tasks-rq on RQ, REDIS_URL or
# redis://127.0.0.1:6379/0) for deployments whose task volume should stay off PostgreSQL:
# `bin/worker` then runs RQ workers. A task is pushed once its change commits (Redis is not in
# the transaction): a crash in between loses that push, which the periodic recovery jobs
# (`orders_recover_placements`, the webhook sender) make good; docs/ops.md.
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
    "redis": "django_tasks_rq.RQBackend",
}
_tasks_backend = os.environ.get("OMS_TASKS_BACKEND", "database")
if _tasks_backend == "redis":
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    RQ_QUEUES = {
        "default": {"URL": REDIS_URL or "redis://127.0.0.1:6379/0", "DEFAULT_TIMEOUT": 600}
    }
TASKS = {
    "default": {
        "BACKEND": _TASK_BACKENDS.get(_tasks_backend, _tasks_backend),
        "QUEUES": ["default"],
    }
}
# How often a failed task is tried in all, and the first wait before a retry (doubled each
# time: 10 s, 20 s, 40 s, ...).
OMS_TASK_MAX_ATTEMPTS = int(os.environ.get("OMS_TASK_MAX_ATTEMPTS", "5"))
OMS_TASK_RETRY_BASE_SECONDS = float(os.environ.get("OMS_TASK_RETRY_BASE_SECONDS", "10"))
# The scheduler: one instance at a time. With REDIS_URL, a Redis lock keeps a second
# `crontask` process idle until the first stops; without it, run exactly one.
CRONTASK = {"REDIS_URL": REDIS_URL} if REDIS_URL else {}
# Periodic jobs that change orders by age are off until set: capture approved orders whose
# authorization is N hours old; cancel pending carts idle for N days.
OMS_AUTO_CAPTURE_AFTER_HOURS = int(os.environ.get("OMS_AUTO_CAPTURE_AFTER_HOURS") or 0)
OMS_CANCEL_ABANDONED_AFTER_DAYS = int(os.environ.get("OMS_CANCEL_ABANDONED_AFTER_DAYS") or 0)
# --- end tasks ------------------------------------------------------------------------------
