"""`make run` on a laptop: debug on, any host (phones on the LAN scan the display's QR code)."""

from .base import *  # noqa: F403
from .env import env_bool, env_list, env_str

DEBUG = env_bool("DEBUG", True)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["*"])
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
# On a laptop, webhooks usually point at something else running on the same laptop.
ROUTING_WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env_bool("ROUTING_WEBHOOK_ALLOW_PRIVATE_ADDRESSES", True)
# Mails stay on the laptop: /dev/mail/ shows them (sign-in codes, password resets).
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "coffeeshop.accounts.devmail.DevMailBackend")
DEV_MAIL_PAGE = DEBUG
