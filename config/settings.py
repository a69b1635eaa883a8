"""Settings, all from the environment.

With nothing set, the project runs on the embedded default: a SQLite file in
the project folder and Celery tasks executed eagerly in-process, so the demo
works on a bare machine. Production mode is DEBUG=false: it refuses to start
without a strong SECRET_KEY, or with a service URL (database, broker, cache)
whose password is missing or weak, and turns on every protection
`check --deploy` asks for. Secrets come only from the environment.
"""
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_float, env_int, env_list, require_service_passwords, secret_key_is_strong

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", True)
PRODUCTION = not DEBUG

# Known to everyone, so refused in production (below and by secret_key_is_strong's prefix test).
_DEVELOPMENT_SECRET_KEY = "django-insecure-development-only-never-use-this-key-in-production"  # nosec B105
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if PRODUCTION and not secret_key_is_strong(SECRET_KEY):
    raise ImproperlyConfigured(
        "Production mode (DEBUG=false) needs SECRET_KEY set to a random value of at least "
        "50 characters, e.g. python -c 'import secrets; print(secrets.token_urlsafe(64))'"
    )
if not SECRET_KEY:
    SECRET_KEY = _DEVELOPMENT_SECRET_KEY

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "ledger",
    "servicing",
    "trusts",
    "remittance",
    "webhooks",  # before approvals: its permissions exist when approvals.staff_groups grants them (post_migrate)
    "approvals",
    "analytics",
    "api",
]

MIDDLEWARE = [
    # Outermost: every error answered under /api/ leaves in the API's JSON shape, whoever answered it.
    "api.errors.ApiErrorShapeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # A NUL in the path or query is a 400 before any view (PostgreSQL could not even compare it).
    "config.request_checks.NulInAddressMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "config.session_expiry.SessionExpiryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a lockout flagged during the login into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

if PRODUCTION:
    # gunicorn serves the admin's static files itself in the production shape.
    MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
                      "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "config.urls"

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

WSGI_APPLICATION = "config.wsgi.application"

# --- Database -------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock up front, so two writers
    # queue instead of deadlocking when both try to upgrade a read lock.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 30, "init_command": "PRAGMA journal_mode=WAL;"}
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-axes first: it refuses a locked-out login before any password is checked. It
# authenticates nobody (ModelBackend does), so force_login still works; see config/throttling.py.
AUTHENTICATION_BACKENDS = [
    "config.throttling.LoginLockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# The servicer keeps US business days; timestamps are stored in UTC.
TIME_ZONE = os.environ.get("TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- Business time ------------------------------------------------------------
# The business clock (ledger/business_time.py) follows the wall clock's local date unless
# BUSINESS_DATE=YYYY-MM-DD fixes it for a whole process (a test's worker, a rehearsal).
# Production refuses it (config/checks: a fixed clock there would misdate every fact).
BUSINESS_DATE = os.environ.get("BUSINESS_DATE") or None
if BUSINESS_DATE and PRODUCTION:
    raise ImproperlyConfigured("BUSINESS_DATE fixes the business clock; production follows the real date")

# --- Celery -----------------------------------------------------------------
# Unset broker: tasks run eagerly in the calling process (the embedded default).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or None
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or CELERY_BROKER_URL
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
# A task is acknowledged only after it finished, and given back to the queue
# if its worker dies, so a crash never loses work; tasks are idempotent, so a
# second delivery has no second effect.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# --- REST API (/api/v1/) -------------------------------------------------------
REST_FRAMEWORK = {
    # Tokens for portals and scripts; the session for the browsable API. Nothing anonymous
    # except the schema, the docs and the token endpoint, which say so themselves.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer",
                                 "rest_framework.renderers.BrowsableAPIRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.StrictJSONParser"],  # a key given twice is a 400
    "DEFAULT_PAGINATION_CLASS": "api.pagination.PageNumber",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["api.throttles.WriteThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "login": os.environ.get("API_LOGIN_RATE", "10/minute"),  # token requests per client address
        "writes": os.environ.get("API_WRITE_RATE", "120/minute"),  # POSTs per user
        # Projection scenarios per user (a request asking for N speeds uses N): each is CPU seconds in a
        # web worker; a user also runs one projection at a time (api.throttles.ProjectionThrottle).
        "analytics": os.environ.get("API_ANALYTICS_RATE", "100/hour"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# Throttle counts (and anything else cached) are shared by every process only in a shared cache:
# CACHE_URL=redis://host:6379/N in production; without it each process counts on its own.
CACHES = {"default": ({"BACKEND": "django.core.cache.backends.redis.RedisCache",
                       "LOCATION": os.environ["CACHE_URL"]} if os.environ.get("CACHE_URL")
                      else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"})}
# Keys of one deployment apart from another's on a shared cache server (the benchmark gives each run its own).
CACHES["default"]["KEY_PREFIX"] = os.environ.get("CACHE_KEY_PREFIX", "")
# The investor API keeps its answers (distributions, holdings) in the cache until a close or a register
# change (api.read_cache). Only a cache every process shares can be told of a change made in another
# process (a close runs in a Celery worker), so it is on by default only with CACHE_URL.
API_READ_CACHE = env_bool("API_READ_CACHE", bool(os.environ.get("CACHE_URL")))
# A request body (other than uploaded files) above this many bytes is refused (413 under /api/).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)  # Django's default, 2.5 MB
# How long a duplicate request (same Idempotency-Key) waits for the first to finish before a 409.
API_IDEMPOTENCY_WAIT_SECONDS = env_int("API_IDEMPOTENCY_WAIT_SECONDS", 10)
# How long a finished Idempotency-Key answer is kept for replays (purged nightly).
API_IDEMPOTENCY_KEEP_DAYS = env_int("API_IDEMPOTENCY_KEEP_DAYS", 30)

SPECTACULAR_SETTINGS = {
    "TITLE": "MBS back office API",
    "DESCRIPTION": (
        "Investor portals and operations integrations. Authenticate with `Authorization: Token <token>` "
        "(POST /api/v1/auth/token/). Money is a string of dollars (\"4995.50\"), rates are percent strings, "
        "dates ISO. Every error is {\"error\": {\"code\", \"message\", \"fields\"}}. Writes take an "
        "Idempotency-Key header."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    # Named here, once: the webhook kinds, a choice set several components share.
    "ENUM_NAME_OVERRIDES": {"WebhookKindEnum": "webhooks.domain.payloads.KINDS"},
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "api.schema.close_request_bodies"],
    # Swagger UI's files come from the drf-spectacular-sidecar package: no outside network needed.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # validatorUrl null: Swagger UI would otherwise send the schema to validator.swagger.io.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "persistAuthorization": True, "validatorUrl": None},
}

# --- Webhooks (webhooks/) ------------------------------------------------------
# http, and any loopback address at all, only for the tests and the demo (a receiver on this machine):
# otherwise https to public addresses only (webhooks.targets). Production refuses it.
WEBHOOKS_ALLOW_LOOPBACK_HTTP = env_bool("WEBHOOKS_ALLOW_LOOPBACK_HTTP", False)
if WEBHOOKS_ALLOW_LOOPBACK_HTTP and PRODUCTION:
    raise ImproperlyConfigured("WEBHOOKS_ALLOW_LOOPBACK_HTTP lets webhooks reach this machine; production refuses it")
WEBHOOKS_MAX_ATTEMPTS = env_int("WEBHOOKS_MAX_ATTEMPTS", 8)  # per series; then the delivery is failed
# The n-th retry waits between half and all of BACKOFF * 2**(n-1) seconds, at most BACKOFF_MAX.
WEBHOOKS_BACKOFF_SECONDS = env_float("WEBHOOKS_BACKOFF_SECONDS", 30.0)
WEBHOOKS_BACKOFF_MAX_SECONDS = env_float("WEBHOOKS_BACKOFF_MAX_SECONDS", 3600.0)
WEBHOOKS_TIMEOUT_SECONDS = env_float("WEBHOOKS_TIMEOUT_SECONDS", 5.0)  # connect, and each read

# --- Servicing policy ------------------------------------------------------
SERVICING_NSF_FEE_CENTS = env_int("SERVICING_NSF_FEE_CENTS", 0)  # returned-payment fee, if the notes allow one
SERVICING_LATE_CHARGE_PERCENT = os.environ.get("SERVICING_LATE_CHARGE_PERCENT", "5")  # of principal and interest
SERVICING_GRACE_DAYS = env_int("SERVICING_GRACE_DAYS", 15)

# --- Logins: lockout after failed attempts (django-axes) -----------------------
# How many proxies in front of the app append to X-Forwarded-For (0: gunicorn faces the clients).
# Both login throttles count by the address the outermost of them saw, never by a client's claim.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
REST_FRAMEWORK["NUM_PROXIES"] = TRUSTED_PROXY_COUNT  # the API's LoginThrottle reads it
AXES_CLIENT_IP_CALLABLE = "config.throttling.client_address"
# LOGIN_FAILURE_LIMIT failed logins for one username (from anywhere), or from one address (for any
# usernames), lock that username or address out of the admin and the token endpoint alike, until
# LOGIN_COOLOFF_MINUTES after the last failure; a failure while locked out starts the cool-off again.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_COOLOFF_MINUTES = env_int("LOGIN_COOLOFF_MINUTES", 15)
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True  # a correct login (not locked out) forgets earlier typos
AXES_VERBOSE = False  # no banner on every start; lockouts are still logged as warnings
AXES_COOLOFF_MESSAGE = (
    f"Too many failed logins for this username or from this address: logins are refused for "
    f"{LOGIN_COOLOFF_MINUTES} minutes after the last failed attempt. An administrator can lift it "
    f"sooner (manage.py axes_reset_username <username>)."
)
# Attempts are kept in the database (django-axes' default handler): one record for every process,
# on SQLite and PostgreSQL alike, and visible in the admin under "Axes".

# --- Sessions and security --------------------------------------------------
# An admin session ends after SESSION_IDLE_TIMEOUT seconds without a request, SESSION_ABSOLUTE_AGE
# seconds after login (config/session_expiry.py), and when the browser closes.
SESSION_IDLE_TIMEOUT = env_int("SESSION_IDLE_TIMEOUT", 30 * 60)
SESSION_ABSOLUTE_AGE = env_int("SESSION_ABSOLUTE_AGE", 8 * 60 * 60)  # one working day
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_AGE  # the stored session outlives no login
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # TLS ends at the load balancer in the production shape; trust its header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
    # Every password the services need comes in their URLs from the environment; none may be weak.
    require_service_passwords({
        "DATABASE_URL": os.environ.get("DATABASE_URL"),
        "CELERY_BROKER_URL": CELERY_BROKER_URL,
        "CELERY_RESULT_BACKEND": CELERY_RESULT_BACKEND,
        "CACHE_URL": os.environ.get("CACHE_URL"),
    })

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
