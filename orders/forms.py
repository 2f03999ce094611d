"""The opening hours form of the barista settings: a day's hours as people write them
("08:00-12:00, 13:00-17:00"), one exception a line, each checked by orders/hours.py."""

from __future__ import annotations

from typing import Any

from django import forms

from orders.hours import (
    WEEKDAYS,
    InvalidHours,
    Span,
    format_exceptions,
    format_spans,
    parse_exceptions,
    parse_spans,
)
from orders.models import Shop
from orders.opening import shop_exceptions, shop_hours, shop_set_hours
from orders.services import ActingUser


def _day_field(name: str) -> str:
    return name.lower()


class OpeningHoursForm(forms.Form):
    follows_hours = forms.BooleanField(
        required=False, label="Open and close the shop by these hours",
        help_text="A barista can still open or close by hand; that holds until the next "
                  "opening or closing time.",
    )
    exceptions = forms.CharField(
        required=False, label="Exceptions",
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false"}),
        help_text="One date a line: 2026-12-24 closed, or 2026-12-31 08:00-14:00 (a reason "
                  "may follow).",
    )

    def __init__(self, *args: Any, shop: Shop, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.shop = shop
        for name in WEEKDAYS:
            self.fields[_day_field(name)] = forms.CharField(
                required=False, label=name,
                widget=forms.TextInput(attrs={"placeholder": "closed", "autocomplete": "off"}),
            )
        self.order_fields(["follows_hours", *(_day_field(n) for n in WEEKDAYS), "exceptions"])
        if not self.is_bound:
            hours = shop_hours(shop)
            self.initial = {
                "follows_hours": shop.follows_hours,
                **{_day_field(name): format_spans(hours.weekly.get(day, ()))
                   .replace("closed", "") for day, name in enumerate(WEEKDAYS)},
                "exceptions": format_exceptions(shop_exceptions(shop)),
            }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        weekly: dict[int, tuple[Span, ...]] = {}
        for day, name in enumerate(WEEKDAYS):
            try:
                spans = parse_spans(data.get(_day_field(name)) or "")
            except InvalidHours as error:
                self.add_error(_day_field(name), f"{name}: {error}.")
                continue
            if spans:
                weekly[day] = spans
        try:
            data["exceptions_parsed"] = parse_exceptions(data.get("exceptions") or "")
        except InvalidHours as error:
            self.add_error("exceptions", f"{str(error)[0].upper()}{str(error)[1:]}.")
        data["weekly"] = weekly
        return data

    def save(self, *, user: ActingUser) -> Shop:
        """Raises OrderError as the service does (shown on the form by the view)."""
        data = self.cleaned_data
        return shop_set_hours(shop=self.shop, user=user, follows_hours=data["follows_hours"],
                              weekly=data["weekly"], exceptions=data["exceptions_parsed"])

