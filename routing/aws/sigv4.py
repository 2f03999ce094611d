"""Verifying AWS Signature Version 4 (the `Authorization` header form), as AWS services do.

Pure Python, no Django: the view hands over the request as it arrived (method, raw path, raw
query string, headers, body) and a way to find a secret by access key id. The steps follow AWS's
specification: parse the header, check the credential scope and the clock, rebuild the canonical
request and the string to sign, derive the signing key and compare signatures in constant time.

Only what AWS SDKs send is accepted: `AWS4-HMAC-SHA256` in the `Authorization` header, a signed
`X-Amz-Date`, a payload hashed into the signature. Presigned URLs (`X-Amz-Signature` in the query)
and `UNSIGNED-PAYLOAD` are refused.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, unquote

from routing.aws.errors import (
    INVALID_SIGNATURE_MESSAGE,
    UNRECOGNIZED_CLIENT_MESSAGE,
    IncompleteSignature,
    InvalidSignature,
    MissingAuthenticationToken,
    UnrecognizedClient,
)

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
# AWS's SigV4 documentation: a signature is valid for five minutes from X-Amz-Date.
MAX_CLOCK_SKEW = timedelta(minutes=5)
# Headers that must be covered by the signature: the host (as AWS requires) and the target, which
# picks the action, so that a captured request cannot be replayed as another action.
REQUIRED_SIGNED_HEADERS = ("host", "x-amz-target")
_UNRESERVED = "-_.~"


@dataclass(frozen=True)
class HttpRequest:
    """A request as it arrived. `path` and `query_string` are raw (percent-encoded as sent);
    `headers` maps lower-case names to values, repeated headers joined with ','."""

    method: str
    path: str
    query_string: str
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class Authorization:
    """The parsed `Authorization` header."""

    access_key_id: str
    scope_date: str
    region: str
    service: str
    terminator: str
    signed_headers: tuple[str, ...]
    signature: str

    @property
    def credential_scope(self) -> str:
        return f"{self.scope_date}/{self.region}/{self.service}/{self.terminator}"


def parse_authorization(header: str) -> Authorization:
    """Reads `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`."""
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise IncompleteSignature(
            f"Authorization header must use the {ALGORITHM} algorithm (Signature Version 4); "
            f"got {algorithm[:40]!r}.",
            field="Authorization",
        )
    parts: dict[str, str] = {}
    for item in rest.split(","):
        name, separator, value = item.strip().partition("=")
        if separator:
            parts[name.strip()] = value.strip()
    missing = [name for name in ("Credential", "SignedHeaders", "Signature") if not parts.get(name)]
    if missing:
        raise IncompleteSignature(
            " ".join(f"Authorization header requires '{name}' parameter." for name in missing),
            field="Authorization",
        )
    credential = parts["Credential"].split("/")
    if len(credential) != 5 or not all(credential):
        raise IncompleteSignature(
            "Credential must read ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request; got "
            f"{len(credential)} parts.",
            field="Authorization",
        )
    signed_headers = tuple(parts["SignedHeaders"].split(";"))
    if any(not name or name != name.lower().strip() for name in signed_headers):
        raise IncompleteSignature(
            "SignedHeaders must list lower-case header names separated by ';'.",
            field="Authorization",
        )
    access_key_id, scope_date, region, service, terminator = credential
    return Authorization(
        access_key_id=access_key_id,
        scope_date=scope_date,
        region=region,
        service=service,
        terminator=terminator,
        signed_headers=signed_headers,
        signature=parts["Signature"],
    )


def _remove_dot_segments(path: str) -> str:
    # RFC 3986 section 5.2.4; AWS also drops empty segments (consecutive slashes).
    output: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if output:
                output.pop()
        else:
            output.append(segment)
    leading = "/" if path.startswith("/") else ""
    trailing = "/" if path.endswith("/") and output else ""
    return leading + "/".join(output) + trailing


def canonical_uri(raw_path: str) -> str:
    """Services other than S3 normalise the path and URI-encode it as sent, so a segment the
    client percent-encoded ends up encoded twice, as AWS's specification requires."""
    return quote(_remove_dot_segments(raw_path or "/") or "/", safe="/~")


def canonical_query_string(raw_query: str) -> str:
    pairs = []
    for item in raw_query.split("&"):
        if not item:
            continue
        name, _, value = item.partition("=")
        pairs.append((quote(unquote(name), safe=_UNRESERVED),
                      quote(unquote(value), safe=_UNRESERVED)))
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def _header_value(value: str) -> str:
    return " ".join(value.split())


def canonical_request(request: HttpRequest, signed_headers: tuple[str, ...]) -> str:
    headers = "".join(
        f"{name}:{_header_value(request.headers.get(name, ''))}\n"
        for name in sorted(set(signed_headers))
    )
    return "\n".join([
        request.method.upper(),
        canonical_uri(request.path),
        canonical_query_string(request.query_string),
        headers,
        ";".join(sorted(set(signed_headers))),
        hashlib.sha256(request.body).hexdigest(),
    ])


def string_to_sign(amz_date: str, credential_scope: str, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{amz_date}\n{credential_scope}\n{digest}"


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret_access_key: str, scope_date: str, region: str, service: str) -> bytes:
    key = _hmac(f"AWS4{secret_access_key}".encode(), scope_date)
    key = _hmac(key, region)
    key = _hmac(key, service)
    return _hmac(key, TERMINATOR)


def signature(secret_access_key: str, authorization: Authorization, amz_date: str,
              request: HttpRequest) -> str:
    key = signing_key(secret_access_key, authorization.scope_date, authorization.region,
                      authorization.service)
    canonical = canonical_request(request, authorization.signed_headers)
    to_sign = string_to_sign(amz_date, authorization.credential_scope, canonical)
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def _amz_date(request: HttpRequest) -> tuple[str, datetime]:
    raw = request.headers.get("x-amz-date", "").strip()
    if not raw:
        raise IncompleteSignature(
            "Authorization header requires existence of an 'X-Amz-Date' header.",
            field="X-Amz-Date",
        )
    try:
        moment = datetime.strptime(raw, AMZ_DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise IncompleteSignature(
            f"Date must be in ISO-8601 'basic format'. Got '{raw[:40]}'. "
            "See http://en.wikipedia.org/wiki/ISO_8601",
            field="X-Amz-Date",
        ) from None
    return raw, moment


def _check_scope(authorization: Authorization, amz_date: str, *, region: str,
                 service: str) -> None:
    if authorization.scope_date != amz_date[:8]:
        raise InvalidSignature(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
            f"HTTP: '{authorization.scope_date[:20]}' != '{amz_date[:8]}', from '{amz_date}'.",
            field="Authorization",
        )
    if authorization.region != region:
        raise InvalidSignature(
            f"Credential should be scoped to a valid region. This bus's region is '{region}': "
            f"set it as the client's region (got '{authorization.region[:40]}').",
            field="Authorization",
        )
    if authorization.service != service:
        raise InvalidSignature(
            f"Credential should be scoped to correct service: '{service}'.",
            field="Authorization",
        )
    if authorization.terminator != TERMINATOR:
        raise InvalidSignature(
            f"Credential should be scoped with a valid terminator: '{TERMINATOR}', not "
            f"'{authorization.terminator[:40]}'.",
            field="Authorization",
        )


def _check_clock(sent: datetime, now: datetime) -> None:
    def stamp(moment: datetime) -> str:
        return moment.astimezone(UTC).strftime(AMZ_DATE_FORMAT)

    if sent < now - MAX_CLOCK_SKEW:
        raise InvalidSignature(
            f"Signature expired: {stamp(sent)} is now earlier than "
            f"{stamp(now - MAX_CLOCK_SKEW)} ({stamp(now)} - 5 min.)",
            field="X-Amz-Date",
        )
    if sent > now + MAX_CLOCK_SKEW:
        raise InvalidSignature(
            f"Signature not yet current: {stamp(sent)} is still later than "
            f"{stamp(now + MAX_CLOCK_SKEW)} ({stamp(now)} + 5 min.)",
            field="X-Amz-Date",
        )


def verify(
    request: HttpRequest,
    *,
    secret_for: Callable[[str], str | None],
    region: str,
    service: str,
    now: datetime,
    required_signed_headers: tuple[str, ...] = REQUIRED_SIGNED_HEADERS,
) -> Authorization:
    """Returns the parsed Authorization of a correctly signed request, or raises the error AWS
    would (MissingAuthenticationToken, IncompleteSignature, UnrecognizedClient,
    InvalidSignature). `secret_for(access_key_id)` gives the live secret, or None.

    A REST protocol (the Scheduler's) picks the action by method and path, which are signed
    anyway, so it requires only `host` to be signed."""
    header = request.headers.get("authorization", "")
    if not header.strip():
        if "x-amz-signature=" in request.query_string.lower():
            raise IncompleteSignature(
                "Presigned URLs are not accepted here: sign the request in the Authorization "
                "header.",
                field="X-Amz-Signature",
            )
        raise MissingAuthenticationToken("Missing Authentication Token", field="Authorization")
    authorization = parse_authorization(header)
    missing = [name for name in required_signed_headers
               if name not in authorization.signed_headers]
    if missing:
        raise IncompleteSignature(
            f"'{missing[0]}' must be a 'SignedHeader' in the AWS Authorization.",
            field="Authorization",
        )
    amz_date, sent = _amz_date(request)
    if request.headers.get("x-amz-security-token"):
        # This server issues long-term keys only: a session token belongs to someone else's
        # temporary credentials, which cannot be valid here.
        raise UnrecognizedClient(
            f"{UNRECOGNIZED_CLIENT_MESSAGE} This bus issues no session tokens: send its access "
            "key and secret without X-Amz-Security-Token (unset AWS_SESSION_TOKEN).",
            field="X-Amz-Security-Token",
        )
    secret = secret_for(authorization.access_key_id)
    if secret is None:
        raise UnrecognizedClient(UNRECOGNIZED_CLIENT_MESSAGE, field="Authorization")
    _check_scope(authorization, amz_date, region=region, service=service)
    _check_clock(sent, now)
    expected = signature(secret, authorization, amz_date, request)
    provided = authorization.signature.encode("utf-8", "replace")
    if not hmac.compare_digest(expected.encode("ascii"), provided):
        raise InvalidSignature(INVALID_SIGNATURE_MESSAGE, field="Authorization")
    return authorization
