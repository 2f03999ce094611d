"""The Django admin of the shop. Shops and menus are edited here, and every change goes through
a service (so it is checked and announced with ConfigService.ConfigChanged in the same
transaction) on the one `ServiceAdmin` of both apps (routing/admin/base.py): a refusal rolls the
save back and is shown on the form, or as a message. Orders are read-only records of their
workflow: the only ways to act on them are the actions below, which call the same services as
the barista page. A wait token is never shown."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfoNotFoundError

from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest
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
    menu_change,
    order_cancel,
    order_complete,
    orders_time_out_overdue,
    shop_create,
    shop_set_baristas,
    shop_update_config,
)
from orders.services.menus import MenuItem, menu_item_describe, menu_item_shop
from orders.workflow import CancelledBy
from routing.admin.base import ServiceAdmin

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
        if change:
            changed = {name: getattr(obj, name) for name in form.changed_data
                       if name in CONFIG_FIELDS}
            if changed:
                shop_update_config(shop=obj, user=request.user, **changed)
        else:
            settings = {name: getattr(obj, name) for name in CONFIG_FIELDS if name != "name"}
            self.adopt(obj, shop_create(slug=obj.slug, name=obj.name, user=request.user,
                                        **settings))

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        if "baristas" in form.changed_data:
            shop_set_baristas(shop=form.instance, baristas=form.cleaned_data["baristas"],
                              user=request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Shop | None = None) -> bool:
        return False  # a shop's orders, numbers and metrics are its history


# Menu ----------------------------------------------------------------------------------------

class MenuAdmin(ServiceAdmin):
    """A menu row is saved with the rows of its inline (a drink's choices, a choice's options)
    by one `menu_change`, which checks them and announces the new menu once; its refusal is
    shown on the form (or as a message, for a deletion or the list's editable rows)."""

    def save_model(self, request: HttpRequest, obj: MenuItem, form: Any, change: bool) -> None:
        pass  # written with its inlines' rows, by the one service call in save_related

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        item: MenuItem = form.instance
        saved: list[MenuItem] = [item]
        removed: list[MenuItem] = []
        for formset in formsets:
            saved += formset.save(commit=False)
            removed += formset.deleted_objects
        verb = "changed" if change else "added"
        menu_change(shop=menu_item_shop(item), user=request.user, saved=saved, removed=removed,
                    change=f"{menu_item_describe(item)} {verb}")

    def service_delete(self, request: HttpRequest, obj: MenuItem) -> None:
        menu_change(shop=menu_item_shop(obj), user=request.user, removed=[obj],
                    change=f"{menu_item_describe(obj)} removed")


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
class DrinkAdmin(MenuAdmin):
    list_display = ("name", "shop", "available", "icon", "position")
    list_filter = ("shop", "available")
    list_editable = ("available", "position")
    search_fields = ("name",)
    inlines = (ModifierGroupInline,)

    def get_readonly_fields(self, request: HttpRequest, obj: Drink | None = None) -> Any:
        return ("shop",) if obj is not None else ()


class ModifierOptionInline(admin.TabularInline):
    model = ModifierOption
    extra = 1
    fields = ("name", "position")


@admin.register(ModifierGroup)
class ModifierGroupAdmin(MenuAdmin):
    list_display = ("name", "drink", "shop_name", "multiple", "required")
    list_filter = ("drink__shop", "multiple", "required")
    search_fields = ("name", "drink__name")
    inlines = (ModifierOptionInline,)

    def get_readonly_fields(self, request: HttpRequest, obj: ModifierGroup | None = None) -> Any:
        return ("drink",) if obj is not None else ()

    @admin.display(description="Shop")
    def shop_name(self, group: ModifierGroup) -> str:
        return group.drink.shop.name


@admin.register(ModifierOption)
class ModifierOptionAdmin(MenuAdmin):
    list_display = ("name", "group", "position")
    list_filter = ("group__drink__shop",)
    search_fields = ("name", "group__name", "group__drink__name")


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
