"""Development mail: every message is kept as one .eml file in DEV_MAIL_DIR, and the /dev/mail/
page shows the newest ones, so sign-in codes and password resets can be read on a laptop (and
by the browser tests) with no mail server."""

from __future__ import annotations

import email
import email.policy
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage as ParsedMessage
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

PAGE_SIZE = 50


def mail_dir() -> Path:
    return Path(settings.DEV_MAIL_DIR)


class DevMailBackend(BaseEmailBackend):
    """Writes each message to its own file, named so that names sort by time."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        folder = mail_dir()
        folder.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            name = f"{timezone.now():%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.eml"
            partial = folder / f".{name}.part"
            partial.write_bytes(message.message().as_bytes())
            partial.rename(folder / name)  # a reader never sees half a message
            sent += 1
        return sent


@dataclass(frozen=True)
class DevMail:
    id: str
    to: str
    subject: str
    sent_at: datetime
    body: str


def _body(parsed: ParsedMessage) -> str:
    part = parsed.get_body(preferencelist=("plain", "html"))
    return part.get_content() if part is not None else ""


def recent_mails(*, limit: int = PAGE_SIZE) -> list[DevMail]:
    """The newest mails first."""
    folder = mail_dir()
    if not folder.is_dir():
        return []
    mails = []
    for path in sorted(folder.glob("*.eml"), reverse=True)[:limit]:
        parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(parsed, ParsedMessage)
        stamp = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        mails.append(DevMail(id=path.stem, to=str(parsed["To"] or ""),
                             subject=str(parsed["Subject"] or ""),
                             sent_at=stamp, body=_body(parsed)))
    return mails


@require_GET
def dev_mail(request: HttpRequest) -> HttpResponse:
    """The development mailbox (only where DEV_MAIL_PAGE is on: `make run` and the tests)."""
    if not settings.DEV_MAIL_PAGE:
        raise Http404("There is no development mailbox here.")
    context: dict[str, Any] = {"mails": recent_mails(), "folder": mail_dir()}
    return render(request, "dev/mail.html", context)
