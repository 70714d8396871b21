"""Scoped reads: what part of the union tree a user may see."""

from django.db.models import Q, QuerySet

from unions.models import Level, Union


def user_scope_root(user) -> Union | None:
    """The union whose subtree the user sees; None means nothing (or everything, superuser)."""
    if not user.is_authenticated or user.is_superuser:
        return None
    return user.union


def scope_q(user, union_field: str = "union") -> Q:
    """A Q that keeps rows whose `union_field` lies in the user's subtree.

    Superusers see everything (an empty Q(): beware, `Q() | other` is just `other`);
    a signed-in user without a union sees nothing.
    """
    if user.is_authenticated and user.is_superuser:
        return Q()
    root = user_scope_root(user)
    if root is None:
        return Q(pk__in=[])
    if root.level == Level.GRASSROOTS:
        # A grassroots union has no children (unions.models.PARENT_LEVEL): its subtree is
        # itself, and equality on the foreign key needs no join and uses the (union, …)
        # indexes, where a path prefix joins the unions and defeats them (issue 16).
        return Q(**{union_field: root.pk})
    return Q(**{f"{union_field}__path__startswith": root.path})


def unions_in_scope(user) -> QuerySet[Union]:
    if user.is_authenticated and user.is_superuser:
        return Union.objects.all()
    root = user_scope_root(user)
    if root is None:
        return Union.objects.none()
    return Union.objects.filter(path__startswith=root.path)


def union_subtree(union: Union, *, include_self: bool = True) -> QuerySet[Union]:
    qs = Union.objects.filter(path__startswith=union.path)
    return qs if include_self else qs.exclude(pk=union.pk)


def union_in_scope(user, union: Union) -> bool:
    if user.is_authenticated and user.is_superuser:
        return True
    root = user_scope_root(user)
    return root is not None and union.path.startswith(root.path)
