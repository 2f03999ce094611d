"""How the shop's services put things in words a person reads: durations, clock times, counts,
an order's label and a person's name."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import User

from orders.models import Order, Shop


def in_words(delta: timedelta) -> str:
    """A rough duration a person reads: "in 40 seconds", "in 3 minutes", "in 7 h 12 min"."""
    seconds = max(int(delta.total_seconds()), 0)
    if seconds < 60:
        return f"in {seconds} second{'s' if seconds != 1 else ''}"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"in {minutes} minute{'s' if minutes != 1 else ''}"
    hours, minutes = divmod(minutes, 60)
    return f"in {hours} h {minutes} min" if minutes else f"in {hours} h"


def clock(shop: Shop, moment: datetime) -> str:
    return moment.astimezone(shop.tz).strftime("%H:%M")


def minutes_in_words(seconds: int) -> str:
    if seconds % 60:
        return f"{seconds} seconds"
    return f"{seconds // 60} minute{'s' if seconds != 60 else ''}"


def drinks_in_words(count: int) -> str:
    return "one drink" if count == 1 else f"{count} drinks"


def order_label(order: Order) -> str:
    return f"order #{order.order_number}" if order.order_number else "the order"


def person_name(user: User | None) -> str:
    if user is None:
        return ""
    return (user.first_name or "").strip() or user.get_username()

