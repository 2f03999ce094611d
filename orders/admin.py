"""The Django admin of the shop. Shops and menus are edited here, and every change goes through
a service (so it is checked and announced with ConfigService.ConfigChanged in the same
transaction). Orders are read-only records of their workflow: the only ways to act on them are
the actions below, which call the same services as the barista page. A wait token is never
shown."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfoNotFoundError

from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from orders import selectors
from orders.models import (
    Customer,
    DailyMetric,
    Drink,
    JourneyEntry,
    ModifierGroup,
    ModifierOption,
    Order,
    QrWindow,
    Shop,
)
from orders.opening import shop_hours_summary
from orders.privacy import customer_erase
from orders.services import (
    CONFIG_FIELDS,
    OrderError,
    order_cancel,
    order_complete,
    orders_time_out_overdue,
    shop_create,
    shop_menu_changed,
    shop_update_config,
)
from orders.workflow import CancelledBy

_FAILED = "_orders_admin_service_failed"


class ServiceAdmin(admin.ModelAdmin):
    """Saves through services; an OrderError is shown as a message and the form stays open."""

    def _service_failed(self, request: HttpRequest, error: OrderError) -> None:
        setattr(request, _FAILED, True)
        self.message_user(request, error.message, messages.ERROR)

    def response_add(self, request: HttpRequest, obj: Any,
                     post_url_continue: str | None = None) -> HttpResponse:
        if getattr(request, _FAILED, False):
            return HttpResponseRedirect(request.get_full_path())
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request: HttpRequest, obj: Any) -> HttpResponse:
        if getattr(request, _FAILED, False):
            return HttpResponseRedirect(request.get_full_path())
        return super().response_change(request, obj)


# Shops ---------------------------------------------------------------------------------------

@admin.register(Shop)
class ShopAdmin(ServiceAdmin):
    list_display = ("name", "slug", "is_open", "follows_hours", "max_queue", "drinks_per_window",
                    "max_orders_per_customer_per_day", "config_version")
    list_filter = ("is_open", "follows_hours")
    search_fields = ("name", "slug")
    readonly_fields = ("config_version", "created_at", "opening_hours")
    filter_horizontal = ("baristas",)
    fieldsets = (
        (None, {"fields": ("slug", "name", "is_open", "timezone")}),
        ("Opening hours", {"fields": ("opening_hours",)}),
        ("Limits", {"fields": ("max_queue", "max_orders_per_customer_per_day",
                               "drinks_per_window", "window_seconds", "guest_orders")}),
        ("Time-outs", {"fields": ("customer_timeout_seconds", "barista_timeout_seconds")}),
        ("Baristas", {"fields": ("baristas",)}),
        ("Record", {"fields": ("config_version", "created_at")}),
    )

    @admin.display(description="Opening hours")
    def opening_hours(self, obj: Shop) -> SafeString | str:
        # Edited on the barista settings page, whose form checks and announces them.
        if obj.pk is None:
            return "Set them once the shop exists."
        try:
            summary = shop_hours_summary(obj)
        except (ZoneInfoNotFoundError, ValueError):  # the form being fixed names a bad zone
            return "Shown once the time zone is valid."
        state = (f"follows them; today {summary.today}" if summary.follows_hours
                 else "opens and closes by hand only")
        return format_html('{} ({}). <a href="{}">Edit the opening hours</a>', state,
                           obj.timezone, reverse("orders:barista-hours", args=[obj.slug]))

    def get_readonly_fields(self, request: HttpRequest, obj: Shop | None = None) -> Any:
        # The slug names the shop in URLs, events and live groups: fixed once created.
        return (*self.readonly_fields, "slug") if obj is not None else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Shop, form: Any, change: bool) -> None:
        try:
            if change:
                changed = {name: getattr(obj, name) for name in form.changed_data
                           if name in CONFIG_FIELDS}
                if changed:
                    shop_update_config(shop=obj, user=request.user, **changed)
            else:
                settings = {name: getattr(obj, name) for name in CONFIG_FIELDS if name != "name"}
                created = shop_create(slug=obj.slug, name=obj.name, user=request.user,
                                      **settings)
                obj.pk, obj.config_version = created.pk, created.config_version
        except OrderError as error:
            self._service_failed(request, error)

    def has_delete_permission(self, request: HttpRequest, obj: Shop | None = None) -> bool:
        return False  # a shop's orders, numbers and metrics are its history


# Menu ----------------------------------------------------------------------------------------

class MenuChangeAdmin(ServiceAdmin):
    """Every save or delete of a menu item is announced (ConfigChanged, menu version bumped)
    by `shop_menu_changed`, in the admin's own transaction."""

    def shop_of(self, obj: Any) -> Shop:
        raise NotImplementedError

    def describe(self, obj: Any) -> str:
        return str(obj)

    def _announce(self, request: HttpRequest, shop: Shop, change: str) -> None:
        try:
            shop_menu_changed(shop=shop, user=request.user, change=change)
        except OrderError as error:
            self._service_failed(request, error)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        verb = "changed" if change else "added"
        self._announce(request, self.shop_of(form.instance),
                       f"{self.describe(form.instance)} {verb}")

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        shop, what = self.shop_of(obj), self.describe(obj)
        super().delete_model(request, obj)
        self._announce(request, shop, f"{what} removed")

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        removed: dict[int, tuple[Shop, list[str]]] = {}
        for obj in queryset:
            shop = self.shop_of(obj)
            removed.setdefault(shop.pk, (shop, []))[1].append(self.describe(obj))
        super().delete_queryset(request, queryset)
        for shop, names in removed.values():
            self._announce(request, shop, f"{', '.join(names)} removed")


class ModifierGroupInline(admin.TabularInline):
    model = ModifierGroup
    extra = 0
    fields = ("name", "multiple", "required", "position", "options_link")
    readonly_fields = ("options_link",)
    show_change_link = True

    @admin.display(description="Options")
    def options_link(self, group: ModifierGroup) -> str:
        if group.pk is None:
            return "Save first, then edit the options."
        return ", ".join(option.name for option in group.options.all()) or "(none yet)"


@admin.register(Drink)
class DrinkAdmin(MenuChangeAdmin):
    list_display = ("name", "shop", "available", "icon", "position")
    list_filter = ("shop", "available")
    list_editable = ("available", "position")
    search_fields = ("name",)
    inlines = (ModifierGroupInline,)

    def get_readonly_fields(self, request: HttpRequest, obj: Drink | None = None) -> Any:
        return ("shop",) if obj is not None else ()

    def shop_of(self, obj: Drink) -> Shop:
        return obj.shop

    def describe(self, obj: Drink) -> str:
        return obj.name


class ModifierOptionInline(admin.TabularInline):
    model = ModifierOption
    extra = 1
    fields = ("name", "position")


@admin.register(ModifierGroup)
class ModifierGroupAdmin(MenuChangeAdmin):
    list_display = ("name", "drink", "shop_name", "multiple", "required")
    list_filter = ("drink__shop", "multiple", "required")
    search_fields = ("name", "drink__name")
    inlines = (ModifierOptionInline,)

    def get_readonly_fields(self, request: HttpRequest, obj: ModifierGroup | None = None) -> Any:
        return ("drink",) if obj is not None else ()

    @admin.display(description="Shop")
    def shop_name(self, group: ModifierGroup) -> str:
        return group.drink.shop.name

    def shop_of(self, obj: ModifierGroup) -> Shop:
        return obj.drink.shop

    def describe(self, obj: ModifierGroup) -> str:
        return f"{obj.drink.name}'s {obj.name} options"


@admin.register(ModifierOption)
class ModifierOptionAdmin(MenuChangeAdmin):
    list_display = ("name", "group", "position")
    list_filter = ("group__drink__shop",)
    search_fields = ("name", "group__name", "group__drink__name")

    def shop_of(self, obj: ModifierOption) -> Shop:
        return obj.group.drink.shop

    def describe(self, obj: ModifierOption) -> str:
        return f"{obj.group.drink.name}'s {obj.group.name} option {obj.name}"


# Records -------------------------------------------------------------------------------------

class RecordAdmin(admin.ModelAdmin):
    """Written by the shop's services and subscribers; nobody edits them."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


def _report(admin_view: admin.ModelAdmin, request: HttpRequest, done: Iterable[str],
            failed: Iterable[str], verb: str) -> None:
    done, failed = list(done), list(failed)
    if done:
        admin_view.message_user(request, f"{verb}: {', '.join(done)}.", messages.SUCCESS)
    if failed:
        admin_view.message_user(request, "Not done: " + "; ".join(failed), messages.ERROR)


@admin.register(Order)
class OrderAdmin(RecordAdmin):
    list_display = ("__str__", "order_number", "state", "shop", "customer", "barista",
                    "robot", "created_at", "deadline_at")
    list_filter = ("state", "shop", "business_date", "robot", "timeout_cause", "cancelled_by")
    search_fields = ("id", "customer__name", "drink")
    date_hierarchy = "created_at"
    list_select_related = ("shop", "customer", "barista")
    # wait_token is deliberately absent: it never leaves the server, not even to staff.
    fields = ("id", "shop", "customer", "state", "order_number", "business_date", "drink",
              "icon", "modifiers", "barista", "wait_kind", "deadline_at", "unavailable_reason",
              "timeout_cause", "cancelled_by", "cancel_reason", "robot", "qr_window",
              "created_at", "submitted_at", "claimed_at", "finished_at", "announced_at",
              "journey")
    readonly_fields = fields
    actions = ("complete_orders", "cancel_orders", "time_out_overdue")

    @admin.display(description="Journey")
    def journey(self, order: Order) -> SafeString:
        steps = selectors.order_journey(order=order)
        if not steps:
            return format_html("{}", "No events recorded yet.")
        return format_html(
            "<ol>{}</ol>",
            format_html_join("", "<li><b>{}</b> ({}) — {}</li>",
                             ((s["step"], s["time"], s["message"]) for s in steps)),
        )

    @admin.action(description="Complete the selected orders (as you, a barista)")
    def complete_orders(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        done, failed = [], []
        for order in queryset:
            try:
                order_complete(order=order, barista=request.user)
                done.append(str(order))
            except OrderError as error:
                failed.append(f"{order}: {error.message}")
        _report(self, request, done, failed, "Completed")

    @admin.action(description="Cancel the selected orders (as you, a barista)")
    def cancel_orders(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        done, failed = [], []
        for order in queryset:
            try:
                order_cancel(order=order, by=CancelledBy.BARISTA, barista=request.user,
                             reason="Cancelled by the shop")
                done.append(str(order))
            except OrderError as error:
                failed.append(f"{order}: {error.message}")
        _report(self, request, done, failed, "Cancelled")

    @admin.action(description="Time out every overdue order now (the selection is ignored)")
    def time_out_overdue(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        count = orders_time_out_overdue()
        self.message_user(request, f"{count} overdue order(s) timed out.", messages.SUCCESS)


@admin.register(Customer)
class CustomerAdmin(RecordAdmin):
    list_display = ("name", "user", "id", "robot", "created_at", "erased_at")
    list_filter = ("robot", ("user", admin.EmptyFieldListFilter),
                   ("erased_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "id", "user__email", "user__username")
    actions = ("erase_personal_data",)

    @admin.action(description="Erase the selected customers' personal data (names, reasons)")
    def erase_personal_data(self, request: HttpRequest, queryset: QuerySet[Customer]) -> None:
        erased = [customer_erase(customer=customer).customer_id for customer in queryset]
        _report(self, request, erased, [], "Erased the personal data of")


@admin.register(QrWindow)
class QrWindowAdmin(RecordAdmin):
    list_display = ("shop", "starts_at", "ends_at", "redeemed", "capacity")
    list_filter = ("shop",)
    date_hierarchy = "starts_at"


@admin.register(JourneyEntry)
class JourneyEntryAdmin(RecordAdmin):
    list_display = ("time", "order", "detail_type", "message")
    list_filter = ("detail_type",)
    search_fields = ("order__id", "event_id", "message")
    list_select_related = ("order",)


@admin.register(DailyMetric)
class DailyMetricAdmin(RecordAdmin):
    list_display = ("business_date", "shop", "name", "count", "total")
    list_filter = ("shop", "business_date")
    search_fields = ("name",)
