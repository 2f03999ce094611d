"""Settings shared by every environment."""

from __future__ import annotations

from datetime import timedelta

from csp.constants import NONE, SELF
from kombu import Queue

from .env import (
    BASE_DIR,
    VAR_DIR,
    database_config,
    default_sqlite_url,
    env_bool,
    env_int,
    env_list,
    env_str,
    redis_url,
)

SECRET_KEY = env_str("SECRET_KEY", "insecure-local-development-key-change-me")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
PORT = env_int("PORT", 8000)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "csp",
    "axes",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "coffeeshop",
    "routing",
    "orders",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "coffeeshop.csp.SiteCSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # A database outage met by a view is answered 503 in the door's own shape, never a 500.
    "coffeeshop.unavailable.DatabaseUnavailableMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "coffeeshop.urls"
ASGI_APPLICATION = "coffeeshop.asgi.application"

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

DATABASES = {"default": database_config(env_str("DATABASE_URL", default_sqlite_url()))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = redis_url()
# Shared by every web process: allauth's rate limits on sign-in codes count here.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "coffeeshop",
        "TIMEOUT": 300,
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    },
}

# channels_redis waits for a socket's next message with a blocking pop of 5 s (BZPOPMIN), and
# redis-py's default socket timeout is 5 s too: every idle socket's pop raced the timeout and
# lost within seconds (redis.exceptions.TimeoutError closed the socket). The read timeout must
# stay well above the pop; health checks and TCP keepalive find a dead connection instead.
CHANNEL_LAYER_SOCKET_TIMEOUT = env_int("CHANNEL_LAYER_SOCKET_TIMEOUT", 15)
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [{
                "address": REDIS_URL,
                "socket_timeout": CHANNEL_LAYER_SOCKET_TIMEOUT,
                "socket_connect_timeout": 5,
                "socket_keepalive": True,
                "health_check_interval": 30,
            }],
            "capacity": 1000,
            "expiry": 30,
        },
    },
}

# Celery reads every CELERY_* setting (see coffeeshop/celery.py).
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# Tasks are idempotent by design, so a message is acknowledged only once its task has run: a
# worker killed mid-task leaves the message to be delivered again.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 4
# The soft limit raises SoftTimeLimitExceeded in the task (a delivery batch then records what it
# did and gives back the rest); the hard limit kills the process. The claim lease must outlast
# the hard limit (routing's system check refuses it otherwise).
CELERY_TASK_SOFT_TIME_LIMIT = float(env_str("CELERY_TASK_SOFT_TIME_LIMIT", "60"))
CELERY_TASK_TIME_LIMIT = float(env_str("CELERY_TASK_TIME_LIMIT", "90"))
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Publishing must not hang when Redis is down: the event is already stored with its outbox row,
# and the sweeper routes it once the broker is back.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# The main queue, and retries on their own (routing.dispatch.RETRY_QUEUE): the Procfile gives each
# a worker, so a backlog never holds a retry past its time. A worker started without --queues
# consumes both; purging purges both.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = (
    Queue("celery", routing_key="celery"),
    Queue("retries", routing_key="retries"),
)

# The event bus (routing app).
ROUTING_REGION = env_str("ROUTING_REGION", "us-east-1")
# How long a web process remembers a verified API key or AWS credential (no query per request):
# how long another process may still accept one just revoked. 0 turns the cache off.
ROUTING_CALLER_CACHE_SECONDS = float(env_str("ROUTING_CALLER_CACHE_SECONDS", "1.0"))
# Exponential backoff with jitter between delivery attempts: base * 2**(attempt-1), capped.
ROUTING_RETRY_BASE_SECONDS = float(env_str("ROUTING_RETRY_BASE_SECONDS", "1.0"))
ROUTING_RETRY_MAX_SECONDS = float(env_str("ROUTING_RETRY_MAX_SECONDS", "300"))
# A queue message older than this whose work is still undone is presumed lost and re-sent.
ROUTING_SWEEP_GRACE_SECONDS = float(env_str("ROUTING_SWEEP_GRACE_SECONDS", "30"))
# A claim's lease: twice a webhook's time-out, at least this; renewed while its attempt runs,
# so a claim whose worker died is taken back within one lease (routing/services/leases.py).
ROUTING_LEASE_MIN_SECONDS = float(env_str("ROUTING_LEASE_MIN_SECONDS", "10"))
# A claim recorded without a lease (before leases were per delivery) lapses after this long.
# It must exceed the longest task (CELERY_TASK_TIME_LIMIT): see routing/checks.py.
ROUTING_RUNNING_LEASE_SECONDS = float(env_str("ROUTING_RUNNING_LEASE_SECONDS", "120"))
# Webhooks to loopback / private / link-local addresses are refused unless this is on.
ROUTING_WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env_bool("ROUTING_WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False)
# The certificates webhook HTTPS is verified against (a PEM file); empty: certifi's bundle.
ROUTING_WEBHOOK_CA_BUNDLE = env_str("ROUTING_WEBHOOK_CA_BUNDLE", "")
ROUTING_EVENT_RETENTION_DAYS = env_int("ROUTING_EVENT_RETENTION_DAYS", 30)
# After a webhook signing secret is rotated, the old one keeps signing beside it this long.
ROUTING_SIGNING_SECRET_OVERLAP_SECONDS = env_int("ROUTING_SIGNING_SECRET_OVERLAP_SECONDS", 86400)
# An API destination's delivery waits at most this long for its rate-limit slot; beyond, it is
# put back (pending, no attempt counted) until its slot comes.
ROUTING_API_DESTINATION_MAX_WAIT_SECONDS = float(
    env_str("ROUTING_API_DESTINATION_MAX_WAIT_SECONDS", "1.0"))
# Encrypts the AWS-protocol credentials' secrets (Fernet keys, comma-separated to rotate; empty:
# derived from SECRET_KEY).
ROUTING_AWS_CREDENTIALS_KEY = env_str("ROUTING_AWS_CREDENTIALS_KEY", "")
# A replay whose runs have shown no sign of life for this long is enqueued again.
ROUTING_REPLAY_STALE_SECONDS = float(env_str("ROUTING_REPLAY_STALE_SECONDS", "120"))
# Quotas, as EventBridge's (docs/aws-compat.md#quotas). PutEvents requests per second for each
# outside caller on each bus (0: no limit), with a burst of that many (or ..._BURST).
ROUTING_PUT_EVENTS_PER_SECOND = float(env_str("ROUTING_PUT_EVENTS_PER_SECOND", "10000"))
ROUTING_PUT_EVENTS_BURST = env_int("ROUTING_PUT_EVENTS_BURST", 0)
ROUTING_MAX_RULES_PER_BUS = env_int("ROUTING_MAX_RULES_PER_BUS", 300)
ROUTING_MAX_TARGETS_PER_RULE = env_int("ROUTING_MAX_TARGETS_PER_RULE", 5)
ROUTING_MAX_PATTERN_LENGTH = env_int("ROUTING_MAX_PATTERN_LENGTH", 2048)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
# Where a sign-in without a `next` lands (never Django's /accounts/profile/, which is no page).
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGOUT_REDIRECT_URL = "/"
# django-axes first: it refuses a locked-out username from this address before any password check.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
# Every login form (the site's and the admin's) goes through authenticate(), so through axes.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
# Per username and address together: one guesser cannot lock every staff member out, and a shop
# behind one NAT address does not lock itself out either.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "coffeeshop.views.locked_out"
# allauth's form names its field "login" (a username or an email), the admin's "username".
AXES_USERNAME_CALLABLE = "coffeeshop.accounts.axes.attempted_username"

# Accounts (django-allauth; see docs/accounts.md): customers sign in with a one-time code sent
# by email (an unknown address gets its account on the way), staff with their password.
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*"]
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_BY_CODE_TIMEOUT = env_int("ACCOUNT_LOGIN_BY_CODE_TIMEOUT", 600)
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[coffeeshop] "
ACCOUNT_ADAPTER = "coffeeshop.accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {"request_login_code": "coffeeshop.accounts.forms.RequestCustomerCodeForm"}
# Codes are rate-limited by allauth (per address and per email); wrong passwords are counted by
# django-axes on every form, so allauth's own failed-login limit would only cut axes short.
ACCOUNT_RATE_LIMITS = {
    "request_login_code": env_str("ACCOUNT_CODE_RATE_LIMIT", "20/m/ip,3/m/key,10/h/key"),
    "login_failed": None,
}

# Two-factor for staff (allauth.mfa): an authenticator app's codes, plus recovery codes. The
# QR code is drawn by segno as inline SVG (the CSP allows no data: images).
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "coffeeshop"
MFA_ADAPTER = "coffeeshop.accounts.adapter.MFAAdapter"

# Mail: SMTP from the environment; `make run` and the tests keep every mail as a file that the
# /dev/mail/ page lists (coffeeshop/accounts/devmail.py).
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "coffeeshop <coffee@localhost>")
DEV_MAIL_DIR = VAR_DIR / "mail"
# The /dev/mail/ page: never in production (settings/production.py refuses it).
DEV_MAIL_PAGE = False

# Content-Security-Policy (django-csp): scripts and styles only from our own static files, no
# inline code or style attributes anywhere; coffeeshop.csp adds the page's own ws(s):// origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"

# /metrics (Prometheus) answers a scraper presenting this bearer token, or a staff session.
METRICS_BEARER_TOKEN = env_str("METRICS_BEARER_TOKEN", "")

# Health checks wait this long for a Celery worker to answer a ping.
HEALTH_WORKER_PING_TIMEOUT = 1.0
# The whole of /healthz, every check at once: a probe with a 1 s time-out must get an answer.
HEALTH_CHECK_TIMEOUT = 0.8

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
# Scheduled rules: the length of a schedule's "minute" (tests shorten it so that rate(1 minute)
# ticks quickly). Beat's poll, ROUTING_SCHEDULE_POLL_SECONDS, is read by coffeeshop/celery.py.
ROUTING_SCHEDULE_MINUTE_SECONDS = float(env_str("ROUTING_SCHEDULE_MINUTE_SECONDS", "60"))
# How long before a shop closes by its hours the "closing soon" notice reaches its pages.
# Beat's poll of the hours, ORDERS_HOURS_POLL_SECONDS, is read by coffeeshop/celery.py.
ORDERS_CLOSING_NOTICE_SECONDS = float(env_str("ORDERS_CLOSING_NOTICE_SECONDS", "600"))
# How long the shop keeps finished orders, their journeys and (its archive's retention) its
# events, in days; 0 keeps them forever. See docs/security.md, "Personal data".
ORDERS_RETENTION_DAYS = env_int("ORDERS_RETENTION_DAYS", 30)
