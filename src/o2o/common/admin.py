"""Admin helpers shared by the apps."""

from __future__ import annotations


class ReadOnlyMixin:
    """No add, change or delete: the rows change only through the app's services (ledgers, records)."""

    def has_add_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False
