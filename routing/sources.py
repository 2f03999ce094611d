"""Who may publish which `source`: EventBridge's IAM condition on `events:source`, as data.

A source pattern is a source (`my.app`) or a prefix ending in `.*` (`my.app.*`: `my.app.orders`
and `my.app` itself). `aws.*` is reserved for AWS and refused to everybody, as EventBridge does;
apps reserve their own sources for their internal publisher when they are ready, so routing
never imports them:

    from routing.sources import reserve_source
    reserve_source("awsserverlessda.serverlesspresso", service="orders")

A credential with no source patterns may publish any source that is not reserved."""

from __future__ import annotations

import re
from collections.abc import Sequence

from routing.publishers import Publisher, PublisherKind

AWS_RESERVED = "aws.*"
_PATTERN_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,250}(\.\*)?")

# pattern -> the internal service that alone may publish it
_reserved: dict[str, str] = {}


def source_pattern_check(pattern: str) -> str | None:
    """Why `pattern` is not a source pattern, or None."""
    if not _PATTERN_RE.fullmatch(pattern) or pattern.endswith("..*"):
        return (f"{pattern!r} is not a source pattern: a source such as 'my.app' or a prefix "
                "such as 'my.app.*' (letters, digits, '.', '-', '_', '/').")
    return None


def source_matches(pattern: str, source: str) -> bool:
    if pattern.endswith(".*"):
        stem = pattern[:-2]
        return source == stem or source.startswith(stem + ".")
    return source == pattern


def reserve_source(pattern: str, *, service: str) -> None:
    problem = source_pattern_check(pattern)
    if problem:
        raise ValueError(problem)
    owner = _reserved.get(pattern)
    if owner is not None and owner != service:
        raise ValueError(f"source {pattern!r} is already reserved for {owner!r}")
    _reserved[pattern] = service


def source_owner(source: str) -> str | None:
    """The internal service `source` is reserved for; "aws" for AWS's; None if nobody's."""
    if source_matches(AWS_RESERVED, source):
        return "aws"
    for pattern, service in _reserved.items():
        if source_matches(pattern, source):
            return service
    return None


def reserved_overlap(pattern: str) -> str | None:
    """The reserved pattern a credential's `pattern` would reach into, if any."""
    for reserved in (AWS_RESERVED, *_reserved):
        stem = pattern[:-2] if pattern.endswith(".*") else pattern
        if source_matches(reserved, stem) or (
            pattern.endswith(".*") and source_matches(pattern, reserved.removesuffix(".*"))
        ):
            return reserved
    return None


def source_refusal(source: str, *, publisher: Publisher,
                   allowed: Sequence[str] | None) -> str | None:
    """Why `publisher` may not publish `source` (an AccessDenied-style message), or None.

    `allowed` is the credential's own source patterns (None or empty: any unreserved one)."""
    owner = source_owner(source)
    if owner is not None:
        if publisher.kind == PublisherKind.SERVICE and publisher.reference == owner:
            return None
        whose = "AWS" if owner == "aws" else f"the internal service {owner!r}"
        return (f"Not authorized for the source {source!r}: it is reserved for {whose}, and "
                f"{publisher.label or 'this caller'} is not authorized to publish it.")
    if allowed and not any(source_matches(pattern, source) for pattern in allowed):
        return (f"Not authorized for the source {source!r}: {publisher.label} may publish "
                f"only {', '.join(allowed)}.")
    return None
