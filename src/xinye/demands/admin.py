"""Administrators edit the data that drives demands: categories (with their handling targets), responsible
bodies and their handlers, routing rules. Every change is kept (django-simple-history)."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from xinye.common.concurrency import VersionedModelForm

from .models import Category, ResponsibleBody, RoutingRule


class CategoryForm(VersionedModelForm):
    class Meta:
        model = Category
        fields = "__all__"


@admin.register(Category)
class CategoryAdmin(SimpleHistoryAdmin):
    """Categories are edited one at a time on their change page, which carries the version it was opened on:
    a stale save is refused with the other change (no lost updates, issue 10). No list editing: the
    change list cannot carry versions."""

    form = CategoryForm
    list_display = ["code", "name_zh", "name_en", "group", "due_days", "order", "active"]
    search_fields = ["code", "name_zh", "name_en"]


class RoutingRuleInline(admin.TabularInline):
    model = RoutingRule
    extra = 1
    autocomplete_fields = ["category"]
    raw_id_fields = ["division"]


@admin.register(ResponsibleBody)
class ResponsibleBodyAdmin(SimpleHistoryAdmin):
    list_display = ["name", "kind", "division", "company", "contact_phone"]
    list_filter = ["kind"]
    search_fields = ["name"]
    raw_id_fields = ["division", "company"]
    filter_horizontal = ["handlers"]
    inlines = [RoutingRuleInline]
