"""What a customer does in the browser: sign in with the code emailed to them (read, as a
person on a `make run` laptop would, from the development mailbox at /dev/mail/)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

CODE = re.compile(r"\b([A-Z0-9]{4}-[A-Z0-9]{4})\b")


def emailed_code(page: Page, server_url: str, email: str) -> str:
    """The newest sign-in code sent to `email`, from the development mailbox page."""
    mailbox = page.context.new_page()
    try:
        mailbox.goto(f"{server_url}/dev/mail/")
        mail = mailbox.locator("article.dev-mail", has_text=email).first
        expect(mail).to_be_visible()
        found = CODE.search(mail.locator("pre").inner_text())
        assert found, mail.inner_text()
        return found.group(1)
    finally:
        mailbox.close()


def sign_in_with_emailed_code(page: Page, server_url: str, email: str) -> None:
    """On the "Sign in with a code" page: asks for a code, reads it from the mail, types it."""
    expect(page.get_by_role("heading", name="Sign in with a code")).to_be_visible()
    page.get_by_role("textbox", name="Your email").fill(email)
    page.get_by_role("button", name="Email me a code").click()
    expect(page.get_by_role("heading", name="Enter your sign-in code")).to_be_visible()
    page.get_by_role("textbox", name="Sign-in code").fill(emailed_code(page, server_url, email))
    page.get_by_role("button", name="Sign in").click()
