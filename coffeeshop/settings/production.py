"""Production: secrets and hosts must come from the environment; HTTPS assumed at the proxy."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .env import env_bool, env_int, env_str, proxy_ssl_header

if "SECRET_KEY" not in os.environ:
    raise ImproperlyConfigured("SECRET_KEY must be set in production")
if "ALLOWED_HOSTS" not in os.environ:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set in production (comma-separated)")

DEBUG = env_bool("DEBUG", False)
# The header by which the proxy in front says the request came over HTTPS ("" if none: then only
# a direct TLS connection counts). The proxy must set it itself, dropping any the client sent.
SECURE_PROXY_SSL_HEADER = proxy_ssl_header(env_str("SECURE_PROXY_SSL_HEADER",
                                                   "X-Forwarded-Proto: https"))
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
# Django sends HSTS only on responses to HTTPS requests, so plain-HTTP health checks are unaffected.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# The load balancer's health probe speaks plain HTTP to the process.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Mail goes out by SMTP (EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD,
# EMAIL_USE_TLS, DEFAULT_FROM_EMAIL); the development mail page never exists here.
DEV_MAIL_PAGE = False
