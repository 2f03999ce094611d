"""The coffee shop's data: shops and their config, menus, QR windows, customers, orders (each
order is also its own durable workflow instance), the daily order-number counter, and the read
models that subscribers keep (journey entries, daily metrics)."""

from __future__ import annotations

import secrets
import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from orders.workflow import CancelledBy, OrderState, TimeoutCause, WaitKind

shop_slug_validator = RegexValidator(
    r"\A[a-z0-9][a-z0-9-]{0,39}\Z",
    "Shop ids are 1-40 characters: lower-case letters, digits and '-'.",
)


def validate_timezone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"{value!r} is not a time zone name (e.g. Europe/London, America/New_York, UTC)."
        ) from None


class Shop(models.Model):
    """One coffee bar (the reference's `eventId`), with its own config, menu and screens."""

    slug = models.SlugField(max_length=40, unique=True, validators=[shop_slug_validator])
    name = models.CharField(max_length=100)
    is_open = models.BooleanField(default=False)
    max_queue = models.PositiveSmallIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(500)],
        help_text="Most open orders at once: being chosen, waiting for or being made by the "
                  "baristas. A new order beyond it is turned away as 'busy'.",
    )
    max_orders_per_customer_per_day = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    guest_orders = models.BooleanField(
        default=False,
        help_text="Lets customers order without signing in, by a name kept in their browser. "
                  "Their daily limit then counts per browser, which a new private window gets "
                  "around: switch it on only where that does not matter.",
    )
    customer_timeout_seconds = models.PositiveIntegerField(
        default=300, validators=[MinValueValidator(30), MaxValueValidator(3600)]
    )
    barista_timeout_seconds = models.PositiveIntegerField(
        default=900, validators=[MinValueValidator(60), MaxValueValidator(7200)]
    )
    drinks_per_window = models.PositiveSmallIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text="Orders one QR code accepts before it is used up.",
    )
    window_seconds = models.PositiveIntegerField(
        default=300, validators=[MinValueValidator(30), MaxValueValidator(3600)],
        help_text="How long one QR code is valid.",
    )
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone],
                                help_text="Where 'today' is, for order numbers and daily limits, "
                                          "and the zone of the opening hours.")
    follows_hours = models.BooleanField(
        default=False, verbose_name="open and close by the opening hours",
        help_text="The shop opens and closes itself at its hours (a barista can still open or "
                  "close it by hand: that holds until the next change of the hours).",
    )
    # Changes of the hours at or before it never apply: the hours were turned on or changed
    # then, or a barista opened or closed by hand (the hand holds until the next change).
    hours_started_at = models.DateTimeField(null=True, blank=True)
    # Set by the "closing soon" notice to the coming close; cleared when the shop opens or closes.
    closing_at = models.DateTimeField(null=True, blank=True)
    # Bumped on every config or menu change; pages compare it to know their menu is current.
    config_version = models.PositiveIntegerField(default=1)
    # Sequence of the live board stream (barista and display pages); see orders/live.py.
    board_seq = models.PositiveBigIntegerField(default=0)
    # Who runs this shop. Empty: every barista (the baristas group) runs it; otherwise only
    # these, and staff. See orders/permissions.py `runs_shop`.
    baristas = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+",
                                      help_text="Leave empty to let every barista run it.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def business_date(self, moment: datetime) -> date:
        """The shop's local day of `moment`: order numbers and daily limits count per day."""
        return moment.astimezone(self.tz).date()


class OpeningHours(models.Model):
    """One span a shop is open on a weekday (two spans make a lunch break), in its zone."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens_at = models.TimeField()
    closes_at = models.TimeField()

    class Meta:
        ordering = ["shop_id", "weekday", "opens_at"]
        verbose_name_plural = "opening hours"
        constraints = [
            models.CheckConstraint(condition=Q(closes_at__gt=models.F("opens_at")),
                                   name="opening_hours_close_after_open"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens_at:%H:%M}-{self.closes_at:%H:%M}"


class OpeningException(models.Model):
    """A date whose hours differ from its weekday's: closed (no times), or open at these times
    (several rows for several spans)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="opening_exceptions")
    date = models.DateField()
    opens_at = models.TimeField(null=True, blank=True)
    closes_at = models.TimeField(null=True, blank=True)
    reason = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["shop_id", "date", "opens_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(opens_at__isnull=True, closes_at__isnull=True)
                           | Q(opens_at__isnull=False, closes_at__gt=models.F("opens_at"))),
                name="opening_exception_closed_or_a_span",
            ),
        ]

    def __str__(self) -> str:
        if self.opens_at is None or self.closes_at is None:
            return f"{self.date}: closed"
        return f"{self.date}: {self.opens_at:%H:%M}-{self.closes_at:%H:%M}"


class HoursChange(models.Model):
    """One change of a shop's hours that was applied (open, closing soon, close, midnight). The
    row is inserted, unique per (shop, kind, at), in the transaction that applies it: however
    many beats run, a change applies once, and a barista's hand holds until the next one."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16)
    at = models.DateTimeField()
    # What applying it did: "opened", "closed", "noticed", "day" or "unchanged" (already so).
    outcome = models.CharField(max_length=16)
    missed_before = models.PositiveIntegerField(default=0)
    applied_at = models.DateTimeField()

    class Meta:
        ordering = ["shop_id", "-at"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "kind", "at"], name="hours_change_once"),
        ]

    def __str__(self) -> str:
        return f"{self.shop_id} {self.kind} @ {self.at.isoformat()}: {self.outcome}"


class Drink(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="drinks")
    name = models.CharField(max_length=60)
    icon = models.CharField(max_length=40, default="cup",
                            help_text="An icon name from static/orders/icons/ (without .svg).")
    available = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["shop_id", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "name"], name="drink_unique_name_per_shop"),
        ]

    def __str__(self) -> str:
        return self.name


class ModifierGroup(models.Model):
    drink = models.ForeignKey(Drink, on_delete=models.CASCADE, related_name="modifier_groups")
    name = models.CharField(max_length=40)
    multiple = models.BooleanField(default=False, help_text="Several options may be chosen.")
    required = models.BooleanField(default=False, help_text="At least one option must be chosen.")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["drink_id", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["drink", "name"], name="group_unique_name_per_drink"),
        ]

    def __str__(self) -> str:
        return f"{self.drink.name}: {self.name}"


class ModifierOption(models.Model):
    group = models.ForeignKey(ModifierGroup, on_delete=models.CASCADE, related_name="options")
    name = models.CharField(max_length=40)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["group_id", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["group", "name"], name="option_unique_name_per_group"),
        ]

    def __str__(self) -> str:
        return self.name


def new_qr_code() -> str:
    return secrets.token_urlsafe(8)[:10]


class QrWindow(models.Model):
    """One QR code: valid from `starts_at` for the shop's window length, for `capacity` orders.

    Windows are fixed slots of wall-clock time, one row per (shop, slot), created once (a unique
    constraint settles concurrent first requests). Redeeming is one conditional UPDATE
    (`redeemed < capacity`), so a window never accepts more than `capacity` orders."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="qr_windows")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    code = models.CharField(max_length=16, default=new_qr_code, unique=True)
    capacity = models.PositiveSmallIntegerField()
    redeemed = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "starts_at"], name="qr_window_once_per_slot"),
            models.CheckConstraint(condition=Q(redeemed__lte=models.F("capacity")),
                                   name="qr_window_never_over_capacity"),
        ]

    def __str__(self) -> str:
        return f"{self.shop.slug} {self.starts_at:%H:%M} ({self.redeemed}/{self.capacity})"

    @property
    def remaining(self) -> int:
        return max(self.capacity - self.redeemed, 0)


class Customer(models.Model):
    """Who orders: a signed-in account's customer (one per account, so the daily limit counts
    per account), or a guest's name remembered in one browser (where a shop allows guests)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="customer")
    # What the barista calls out; empty until a signed-in customer has told us.
    name = models.CharField(max_length=40, blank=True)
    # Sequence of this customer's live stream (their order pages); see orders/live.py.
    live_seq = models.PositiveBigIntegerField(default=0)
    robot = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the customer's personal data was erased (orders/privacy.py), if it was.
    erased_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        if self.erased_at and not self.name:
            return f"(erased {self.pk})"
        return self.name or "(no name yet)"

    @property
    def is_guest(self) -> bool:
        return self.user_id is None


def new_order_id() -> str:
    return secrets.token_urlsafe(15)[:21]


class Order(models.Model):
    """An order, and the durable instance of its workflow (see orders/workflow.py)."""

    id = models.CharField(primary_key=True, max_length=24, default=new_order_id, editable=False)
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="orders")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    qr_window = models.ForeignKey(QrWindow, on_delete=models.PROTECT, related_name="orders",
                                  null=True, blank=True)
    state = models.CharField(max_length=24, choices=OrderState.choices(), default=OrderState.NEW)
    # The human number, from the shop's daily counter, given when the drink is submitted.
    order_number = models.PositiveIntegerField(null=True, blank=True)
    business_date = models.DateField()
    drink = models.CharField(max_length=60, blank=True)
    icon = models.CharField(max_length=40, blank=True)
    # [{"group": "Milk", "option": "Oat"}, ...], as validated against the menu at submission.
    modifiers = models.JSONField(default=list, blank=True)
    barista = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    # The workflow's current wait: who it waits for, until when, and the single-use token that
    # resumes it. The token never leaves the server (not in events, pages or sockets).
    wait_kind = models.CharField(max_length=16, choices=WaitKind.choices(), blank=True)
    wait_token = models.CharField(max_length=64, blank=True)
    deadline_at = models.DateTimeField(null=True, blank=True)
    unavailable_reason = models.CharField(max_length=16, blank=True)
    timeout_cause = models.CharField(max_length=24, choices=TimeoutCause.choices(), blank=True)
    cancelled_by = models.CharField(max_length=16, choices=CancelledBy.choices(), blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    robot = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Set by the order store once OrderManager.WaitingCompletion is out (so it goes out once).
    announced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "business_date", "order_number"],
                                    condition=Q(order_number__isnull=False),
                                    name="order_number_unique_per_shop_day"),
        ]
        indexes = [
            models.Index(fields=["shop", "state"], name="order_shop_state"),
            models.Index(fields=["customer", "-created_at"], name="order_customer_recent"),
            models.Index(fields=["state", "deadline_at"], name="order_deadline"),
        ]

    def __str__(self) -> str:
        number = f"#{self.order_number} " if self.order_number else ""
        return f"{number}{self.drink or 'order'} ({self.state})"


class OrderCounter(models.Model):
    """Per shop and business day: the last order number given."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    business_date = models.DateField()
    value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "business_date"], name="counter_per_shop_day"),
        ]

    def __str__(self) -> str:
        return f"{self.shop.slug} {self.business_date}: {self.value}"


class JourneyEntry(models.Model):
    """One event in an order's journey, recorded by the journey subscriber."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="journey")
    event_id = models.UUIDField(unique=True)
    detail_type = models.CharField(max_length=128)
    message = models.TextField(blank=True)
    # The event's detail as published (events may be purged sooner than journeys).
    detail = models.JSONField(default=dict, blank=True)
    time = models.DateTimeField()

    class Meta:
        ordering = ["time", "id"]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.detail_type}"


class DailyMetric(models.Model):
    """Counters per shop, day and name (e.g. "orders.started", "drink.Latte"), kept by the
    metrics subscriber; `total` sums a quantity where one applies (e.g. wait seconds)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    business_date = models.DateField()
    name = models.CharField(max_length=100)
    count = models.PositiveIntegerField(default=0)
    total = models.FloatField(default=0)

    class Meta:
        ordering = ["-business_date", "name"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "business_date", "name"],
                                    name="metric_per_shop_day_name"),
        ]

    def __str__(self) -> str:
        return f"{self.shop.slug} {self.business_date} {self.name}={self.count}"


class ProcessedEvent(models.Model):
    """Which subscriber has applied which event: makes at-least-once deliveries count once."""

    subscriber = models.CharField(max_length=60)
    event_id = models.UUIDField()
    processed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "event_id"], name="processed_once"),
        ]

    def __str__(self) -> str:
        return f"{self.subscriber}: {self.event_id}"

