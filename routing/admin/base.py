"""What every admin shares (the bus's and the shop's): writes through services with their errors
shown on the form or as a message, read-only admins for the records the bus keeps, and small
display helpers."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.db import router, transaction
from django.db.models import Model, ProtectedError, Q, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from coffeeshop.error_rendering import admin_error_message
from routing.errors import ApplicationError, RoutingError
from routing.forms import ServiceErrorFormMixin

_SERVICE_ERROR = "_admin_service_error"


def admin_url(obj: Model, view: str = "change") -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=[obj.pk])


def changelist_url(model: type[Model], **filters: object) -> str:
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    if filters:
        url += "?" + "&".join(f"{key}={value}" for key, value in filters.items())
    return url


def link(obj: Model | None, text: object = None) -> SafeString | str:
    if obj is None:
        return "-"
    return format_html('<a href="{}">{}</a>', admin_url(obj), obj if text is None else text)


def json_block(value: Any) -> SafeString:
    return format_html('<pre class="json-block">{}</pre>',
                       json.dumps(value, indent=2, ensure_ascii=False))


def protected_message(obj: Model, error: ProtectedError) -> str:
    kinds = sorted({str(related._meta.verbose_name_plural) for related in error.protected_objects})
    return (f"{str(obj._meta.verbose_name).capitalize()} {obj} cannot be deleted: "
            f"{', '.join(kinds)} still refer to it and are kept for their history.")


class UUIDSearchMixin(admin.ModelAdmin):
    """A search term that is a UUID finds rows by these UUID fields exactly (ids are what people
    paste); any other term searches `search_fields` as usual."""

    uuid_search_fields: tuple[str, ...] = ("id",)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        try:
            value = uuid.UUID(search_term.strip())
        except ValueError:
            value = None
        if value is None or not self.uuid_search_fields:
            return super().get_search_results(request, queryset, search_term)
        match = Q()
        for field in self.uuid_search_fields:
            match |= Q(**{field: value})
        return queryset.filter(match), False


class ReadOnlyAdmin(UUIDSearchMixin, admin.ModelAdmin):
    """A record the bus writes and nobody edits: no add, change or delete (nor delete action)."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ServiceAdmin(admin.ModelAdmin):
    """An admin whose writes are service calls: the one base of both apps' admins that write.

    Subclasses implement `save_model` (or `save_related`, to save a row with its inlines in one
    call) and `service_delete` if deleting is allowed, with the service. An `ApplicationError`
    raised while saving rolls the whole save back (the admin's view runs in a transaction) and
    the form is shown again with the error on the field it names (or on the form); one raised
    while deleting, or while saving the change list's editable rows, becomes an error
    message. Nothing is saved by Django's own `save()` and no refusal is lost."""

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False,
                 **kwargs: Any) -> type[ModelForm[Any]]:
        form = super().get_form(request, obj, change, **kwargs)
        error = getattr(request, _SERVICE_ERROR, None)
        if error is None:
            return form
        bases = (form,) if issubclass(form, ServiceErrorFormMixin) else (
            ServiceErrorFormMixin, form)
        return type(form.__name__, bases, {"service_error": error})

    def changeform_view(self, request: HttpRequest, object_id: str | None = None,
                        form_url: str = "", extra_context: dict[str, Any] | None = None
                        ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as error:
            if request.method != "POST" or getattr(request, _SERVICE_ERROR, None) is not None:
                raise
            setattr(request, _SERVICE_ERROR, error)
            return super().changeform_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request: HttpRequest,
                        extra_context: dict[str, Any] | None = None) -> HttpResponse:
        try:
            return super().changelist_view(request, extra_context)
        except ApplicationError as error:
            # The editable rows were saved in one transaction, rolled back with the refusal.
            admin_error_message(self, request, error)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # Never Django's obj.save(): a subclass that can add or change calls its service here.
        raise NotImplementedError(f"{type(self).__name__} has no save service")

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # The service has written everything, many-to-many relations included.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        raise NotImplementedError(f"{type(self).__name__} saves no inline through a service")

    @staticmethod
    def adopt(obj: Model, saved: Model) -> None:
        """Make the admin's unsaved instance the row the service wrote, so that the admin's
        log entry and redirect name it."""
        obj.pk = saved.pk
        obj.refresh_from_db()
        obj._state.adding = False

    # Deleting ----------------------------------------------------------------------------------

    def service_delete(self, request: HttpRequest, obj: Any) -> None:
        raise NotImplementedError(f"{type(self).__name__} has no delete service")

    def deletion_summary(self, obj: Any) -> list[Any]:
        """What deleting `obj` does, as nested lists for the confirmation page."""
        return [link(obj)]

    def get_deleted_objects(
        self, objs: Iterable[Any], request: HttpRequest
    ) -> tuple[list[Any], dict[str, int], set[str], list[Any]]:
        # The service decides what deleting means (soft delete, refusal); Django's collector
        # would list rows that are in fact kept, and block on relations the service allows.
        objs = list(objs)
        summary = [item for obj in objs for item in self.deletion_summary(obj)]
        return summary, {str(self.opts.verbose_name_plural): len(objs)}, set(), []

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        try:
            self.service_delete(request, obj)
        except ProtectedError as error:
            raise RoutingError(protected_message(obj, error)) from None

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            self.delete_model(request, obj)

    def delete_view(self, request: HttpRequest, object_id: str,
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except ApplicationError as error:
            # The admin's transaction (log entry included) was rolled back.
            admin_error_message(self, request, error)
            return HttpResponseRedirect(request.path.rsplit("delete/", 1)[0])

    @admin.action(permissions=["delete"], description="Delete selected %(verbose_name_plural)s")
    def delete_selected(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        """Django's confirmation page, then one service call per object, each reported."""
        if not request.POST.get("post"):
            return django_delete_selected(self, request, queryset)
        deleted, refused = 0, []
        for obj in queryset:
            try:
                with transaction.atomic(using=router.db_for_write(self.model)):
                    # Logged first (a hard-deleted row cannot be logged after), and undone
                    # with the deletion if the service refuses it.
                    self.log_deletions(request, queryset.filter(pk=obj.pk))
                    self.delete_model(request, obj)
            except ApplicationError as error:
                refused.append(f"{obj}: {error.message}")
                continue
            deleted += 1
        if deleted:
            self.message_user(request, f"Deleted {deleted} {self._noun(deleted)}.",
                              messages.SUCCESS)
        if refused:
            self.message_user(request, f"Not deleted: {'; '.join(refused)}", messages.ERROR)
        return None

    def _noun(self, count: int) -> str:
        return str(self.opts.verbose_name if count == 1 else self.opts.verbose_name_plural)


def _some(names: list[str], limit: int = 10) -> str:
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit} more"


def report_action(modeladmin: admin.ModelAdmin, request: HttpRequest, *, done: list[str],
                  verb: str, failed: list[str], skipped: list[str] | None = None,
                  skipped_reason: str = "") -> None:
    """One success message counting what was done, one warning counting what was skipped and
    why, and one error naming each failure with its reason."""
    def noun(count: int) -> str:
        opts = modeladmin.opts
        return str(opts.verbose_name if count == 1 else opts.verbose_name_plural)

    if done:
        modeladmin.message_user(request, f"{verb} {len(done)} {noun(len(done))}: "
                                f"{_some(done)}.", messages.SUCCESS)
    if skipped:
        modeladmin.message_user(request, f"Skipped {len(skipped)} {noun(len(skipped))} "
                                f"{skipped_reason}: {_some(skipped)}.", messages.WARNING)
    if failed:
        modeladmin.message_user(request, f"Failed: {'; '.join(failed)}", messages.ERROR)
