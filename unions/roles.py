"""Each role has a Django group carrying the model permissions the admin needs.

The role field on the user is the truth; the group follows it (unions.services.user_set_role).
Groups are created after every migrate with their default permissions; administrators may add
permissions to a group in the admin, and a missing default is put back on the next migrate.
"""

from django.apps import apps
from django.contrib.auth.models import Group, Permission

from unions.models import Role


def role_group_name(role: str) -> str:
    # Stable, language-independent names: the admin shows them as they are.
    return {
        Role.CASEWORKER: "caseworkers",
        Role.TOWN_REVIEWER: "town-reviewers",
        Role.DISTRICT_OFFICER: "district-officers",
    }[Role(role)]


def default_role_permissions() -> dict[str, set[str]]:
    """Role -> {"app_label.codename"} gathered from every app's `role_permissions`."""
    merged: dict[str, set[str]] = {role.value: set() for role in Role}
    for config in apps.get_app_configs():
        for role, perms in getattr(config, "role_permissions", {}).items():
            merged[Role(role).value].update(perms)
    return merged


def sync_role_groups(**kwargs) -> None:
    for role, perm_names in default_role_permissions().items():
        group, _ = Group.objects.get_or_create(name=role_group_name(role))
        wanted = []
        for name in sorted(perm_names):
            app_label, codename = name.split(".", 1)
            perm = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            # During a partial migrate a later app's permissions may not exist yet.
            if perm is not None:
                wanted.append(perm)
        group.permissions.add(*wanted)
