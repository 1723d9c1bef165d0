"""The audit log in Django's admin: read-only (nobody adds, changes or deletes an entry)."""

from django.contrib import admin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "username", "kind", "field", "subject_type", "count", "path", "address"]
    list_filter = ["kind", "field", "at"]
    search_fields = ["username", "path", "address"]
    date_hierarchy = "at"

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
