from django.contrib import admin

from casework.returns.models import ExportJob


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin[ExportJob]):
    """Export jobs, read-only: an administrator sees who exported what and when, and whether
    it failed. Jobs are made on the Exports page; their files are downloaded there."""

    list_display = ["kind", "requested_by", "state", "problem_count", "requested_at"]
    list_filter = ["kind", "state"]
    # The problem list names children: not for the admin, which is not need-to-know scoped.
    exclude = ["problems"]
    readonly_fields = [f.name for f in ExportJob._meta.fields if f.name != "problems"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False  # deleting the row would leave its file behind
