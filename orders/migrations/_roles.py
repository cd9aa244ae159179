"""What the staff-role migrations run (a module the migration loader skips: its name starts
with an underscore)."""

from typing import Any

from django.contrib.auth.management import create_permissions

from orders.roles import ROLES, staff_roles_sync


def roles_create(apps: Any, schema_editor: Any) -> None:
    # The permissions of the models are made after the last migration (post_migrate): make
    # them now, so the groups can hold them on a fresh database.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    staff_roles_sync(
        group_model=apps.get_model("auth", "Group"),
        permission_model=apps.get_model("auth", "Permission"),
    )


def roles_delete(apps: Any, schema_editor: Any) -> None:
    apps.get_model("auth", "Group").objects.filter(name__in=list(ROLES)).delete()
