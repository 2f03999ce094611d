"""The test suite: real database and Redis, never Celery's eager mode.

With no REDIS_URL the suite starts an embedded Redis here, before the shared settings read it,
and exports its URL so the Celery workers and ASGI servers the tests start use the same one.
With no DATABASE_URL it uses a SQLite file, which those processes can share.
"""

import atexit
import os
from pathlib import Path

from coffeeshop.embedded_redis import ensure_redis_url_in_environment

_embedded_redis = ensure_redis_url_in_environment()
if _embedded_redis is not None:
    atexit.register(_embedded_redis.stop)

from .base import *  # noqa: E402, F403
from .base import DATABASES, VAR_DIR  # noqa: E402
from .env import env_str  # noqa: E402

DEBUG = False
ALLOWED_HOSTS = ["*"]
SECRET_KEY = "test-only-secret-key"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # One file per test session, so that two sessions on one checkout never share a database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}

# Test webhooks are local HTTP servers, and retries should come quickly.
ROUTING_WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
# (A worker a test starts may be given the production schedule through the environment.)
ROUTING_RETRY_BASE_SECONDS = float(env_str("ROUTING_RETRY_BASE_SECONDS", "0.2"))
ROUTING_RETRY_MAX_SECONDS = float(env_str("ROUTING_RETRY_MAX_SECONDS", "2.0"))

# Mails are files that the tests and the /dev/mail/ page read, one folder per test session
# (exported, so the servers and workers the tests start write to it too). Rate limits count per
# process, so tests do not share them through Redis.
EMAIL_BACKEND = "coffeeshop.accounts.devmail.DevMailBackend"
DEV_MAIL_DIR = Path(os.environ.setdefault("COFFEESHOP_TEST_MAIL_DIR",
                                          str(VAR_DIR / f"mail-{os.getpid()}")))
DEV_MAIL_PAGE = True
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
