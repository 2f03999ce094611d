"""AWS credentials for the AWS-protocol endpoint: created with a secret shown once, looked up by
access key id, revoked by name.

An access key id reads `CSAK` + 16 characters of base32 (20 in all, AWS's length; the prefix keeps
it from passing for a real AWS key). The secret is 40 URL-safe characters (240 random bits).
SigV4 needs the secret itself to check a signature, so it is stored encrypted with Fernet under
`ROUTING_AWS_CREDENTIALS_KEY` (one Fernet key, or several separated by commas: the first
encrypts, any decrypts, which allows rotation). Without that setting the key is derived from
SECRET_KEY (and SECRET_KEY_FALLBACKS, for decrypting), so rotating SECRET_KEY without keeping the
old one as a fallback makes existing credentials unreadable.
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Iterable

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.crypto import salted_hmac

from routing.errors import AlreadyExists
from routing.models import AwsCredential
from routing.services.caller_cache import AWS_CREDENTIALS, CachedCaller, grant_of
from routing.services.callers import (
    buses_named,
    caller_name_check,
    caller_record_use,
    caller_record_use_of,
    caller_revoke,
    source_patterns_checked,
)

ACCESS_KEY_PREFIX = "CSAK"
ACCESS_KEY_RANDOM_CHARS = 16
SECRET_BYTES = 30

_ACCESS_KEY_RE = re.compile(r"[A-Z0-9]{16,128}")
_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


class CredentialUnreadable(Exception):
    """The stored secret cannot be decrypted with the configured keys."""


def _derived_key(secret_key: str | bytes) -> bytes:
    digest = salted_hmac("routing.aws.credentials", "fernet-key", secret=secret_key,
                         algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest)


def _fernet() -> MultiFernet:
    configured = str(settings.ROUTING_AWS_CREDENTIALS_KEY or "")
    raw_keys: list[str | bytes] = [key.strip() for key in configured.split(",") if key.strip()]
    if not raw_keys:
        secret_keys: list[str | bytes] = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
        raw_keys = [_derived_key(key) for key in secret_keys]
    try:
        return MultiFernet([Fernet(key) for key in raw_keys])
    except ValueError:
        raise ImproperlyConfigured(
            "ROUTING_AWS_CREDENTIALS_KEY must be one Fernet key, or several separated by commas "
            "(make one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')."
        ) from None


def encrypt_secret(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt_secret(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise CredentialUnreadable(
            "cannot decrypt an AWS credential's secret: ROUTING_AWS_CREDENTIALS_KEY (or "
            "SECRET_KEY, from which it is derived by default) changed since it was created; "
            "restore the old key, or add it after the new one (comma-separated), or to "
            "SECRET_KEY_FALLBACKS"
        ) from None


def _new_access_key_id() -> str:
    random_part = "".join(secrets.choice(_BASE32) for _ in range(ACCESS_KEY_RANDOM_CHARS))
    return ACCESS_KEY_PREFIX + random_part


def awscredential_create(*, name: str, bus_names: Iterable[str] = (),
                         sources: Iterable[str] = ()) -> tuple[AwsCredential, str]:
    """Creates a credential, limited to `bus_names` when any are given (none: every bus) and
    to the source patterns `sources` (none: any source not reserved, see routing.sources).

    Returns the row and the secret access key, which is shown this once."""
    caller_name_check(name, what="An AWS credential")
    buses = buses_named(bus_names)
    source_patterns = source_patterns_checked(sources)
    if AwsCredential.objects.filter(name=name).exists():
        raise AlreadyExists(f"AWS credential {name} already exists.", field="Name")
    secret = secrets.token_urlsafe(SECRET_BYTES)
    encrypted = encrypt_secret(secret)
    # A clash of random 80-bit key ids is all but impossible; one more draw settles it anyway.
    for _ in range(3):
        try:
            with transaction.atomic():
                credential = AwsCredential.objects.create(
                    name=name, access_key_id=_new_access_key_id(),
                    secret_access_key_encrypted=encrypted, sources=source_patterns,
                )
                credential.buses.set(buses)
        except IntegrityError:
            if AwsCredential.objects.filter(name=name).exists():
                raise AlreadyExists(f"AWS credential {name} already exists.",
                                    field="Name") from None
            continue
        return credential, secret
    raise RuntimeError("could not draw an unused access key id in three tries")


def awscredential_revoke(*, name: str) -> AwsCredential:
    """Refuses the credential from now on. Revoking a revoked credential changes nothing."""
    return caller_revoke(AwsCredential, name=name, what="AWS credential")


def awscredential_list() -> QuerySet[AwsCredential]:
    return AwsCredential.objects.prefetch_related("buses").order_by("name")


def awscredential_find(access_key_id: str) -> AwsCredential | None:
    """The live credential with this access key id, with its buses prefetched; None if none."""
    if not _ACCESS_KEY_RE.fullmatch(access_key_id):
        return None
    return (AwsCredential.objects.prefetch_related("buses")
            .filter(access_key_id=access_key_id, revoked_at__isnull=True).first())


def awscredential_verifier(access_key_id: str) -> CachedCaller[str] | None:
    """The grant and decrypted secret of the live credential with this access key id, from this
    process's cache when it was looked up within the cache's time-to-live (no query, no
    decryption); None if there is none. Raises CredentialUnreadable naming the credential."""
    entry = AWS_CREDENTIALS.get(access_key_id)
    if entry is not None:
        return entry
    credential = awscredential_find(access_key_id)
    if credential is None:
        return None
    try:
        secret = decrypt_secret(credential.secret_access_key_encrypted)
    except CredentialUnreadable as error:
        raise CredentialUnreadable(f"AWS credential {credential.name}: {error}") from None
    return AWS_CREDENTIALS.put(access_key_id, grant=grant_of(credential), secret=secret,
                               last_used_at=credential.last_used_at)


def awscredential_touch(credential: AwsCredential) -> None:
    """Records a successful use, at most once a minute."""
    caller_record_use(credential)


def awscredential_record_use(entry: CachedCaller[str]) -> None:
    """Records a successful use of a verified credential, at most once a minute."""
    entry.last_used_at = caller_record_use_of(AwsCredential, pk=entry.grant.pk,
                                              last_used_at=entry.last_used_at)
