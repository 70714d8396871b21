"""The write path for unions and users: create, update, move, import, assign roles."""

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from unions.models import PARENT_LEVEL, PATH_SEGMENT, Role, Union, User
from unions.roles import role_group_name


def _segment(pk: int) -> str:
    return f"{pk:0{PATH_SEGMENT}d}/"


def union_rebuild_paths(root: Union | None = None) -> int:
    """Recompute materialized paths below `root` (or for the whole tree); return rows changed.

    The tree is three levels deep and holds hundreds of nodes, so a pass over the affected
    part in memory with one bulk update is simpler and safer than incremental path surgery.
    """
    qs = Union.objects.only("pk", "parent_id", "path")
    nodes = {u.pk: u for u in qs}
    children: dict[int | None, list[Union]] = {}
    for node in nodes.values():
        children.setdefault(node.parent_id, []).append(node)
    changed: list[Union] = []

    def walk(node: Union, prefix: str) -> None:
        new_path = prefix + _segment(node.pk)
        if node.path != new_path:
            node.path = new_path
            changed.append(node)
        for child in children.get(node.pk, []):
            walk(child, new_path)

    if root is None:
        for top in children.get(None, []):
            walk(top, "")
    else:
        parent_path = nodes[root.parent_id].path if root.parent_id else ""
        walk(nodes[root.pk], parent_path)
    # Paths are unique: clear the changed ones first so a swap cannot collide mid-update.
    if changed:
        for node in changed:
            Union.objects.filter(pk=node.pk).update(path=f"~{node.pk}")
        Union.objects.bulk_update(changed, ["path"])
    return len(changed)


@transaction.atomic
def union_create(
    *,
    code: str,
    name: str,
    level: str,
    kind: str = "",
    parent: Union | None = None,
    phone: str = "",
) -> Union:
    union = Union(
        code=code, name=name, level=level, kind=kind or "", parent=parent, phone=phone or ""
    )
    union.path = f"~new-{code}"[:64]
    union.full_clean()
    union.save()
    union.path = (parent.path if parent else "") + _segment(union.pk)
    union.save(update_fields=["path"])
    return union


@transaction.atomic
def union_update(*, union: Union, **changes) -> Union:
    """Change a union's fields; moving it to another parent re-roots its whole subtree."""
    allowed = {"code", "name", "level", "kind", "parent", "is_active", "phone"}
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"union_update: unknown fields {sorted(unknown)}")
    union = Union.objects.select_for_update().get(pk=union.pk)
    old_parent_id = union.parent_id
    for name, value in changes.items():
        setattr(union, name, value)
    union.full_clean()
    _check_children_fit(union)
    union.save()
    if union.parent_id != old_parent_id:
        union_rebuild_paths(union)
    union.refresh_from_db()
    return union


def _check_children_fit(union: Union) -> None:
    bad = union.children.exclude(level=_child_level(union.level)).count() if union.pk else 0
    if bad:
        raise ValidationError(
            {
                "level": _("%(count)d subordinate unions would no longer fit under this level.")
                % {"count": bad}
            }
        )


def _child_level(level: str) -> str | None:
    for child, parent in PARENT_LEVEL.items():
        if parent == level:
            return child
    return None


@transaction.atomic
def user_set_role(*, user: User, role: str, union: Union | None) -> User:
    """Give a user a role at a union (or take both away) and keep groups and staff in step."""
    user.role = role or ""
    user.union = union
    user.full_clean(exclude=["password"])
    # Town reviewers and district officers work in the admin; caseworkers in the pages; a
    # user whose role is taken away keeps no admin access unless they administer the system.
    user.is_staff = user.is_superuser or (bool(user.role) and Role(user.role) != Role.CASEWORKER)
    user.save()
    role_groups = Group.objects.filter(name__in=[role_group_name(r) for r in Role])
    user.groups.remove(*role_groups)
    if user.role:
        user.groups.add(Group.objects.get_or_create(name=role_group_name(user.role))[0])
    return user
