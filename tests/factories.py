"""factory_boy factories. Unions go through the services so their tree paths are real."""

import factory

from unions.models import Kind, Level, Role, Union, User
from unions.services import union_create, user_set_role


class UnionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Union

    code = factory.Sequence(lambda n: f"U{n:04d}")
    name = factory.Sequence(lambda n: f"工会{n}")
    level = Level.DISTRICT
    kind = ""
    parent = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        kwargs.pop("path", None)
        return union_create(**kwargs)


class DistrictFactory(UnionFactory):
    name = factory.Sequence(lambda n: f"第{n}区总工会")


class TownFactory(UnionFactory):
    level = Level.TOWN
    name = factory.Sequence(lambda n: f"第{n}镇总工会")
    parent = factory.SubFactory(DistrictFactory)


class GrassrootsFactory(UnionFactory):
    level = Level.GRASSROOTS
    kind = Kind.COMMUNITY
    name = factory.Sequence(lambda n: f"第{n}社区工会")
    parent = factory.SubFactory(TownFactory)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"用户{n}")
    password = factory.django.Password("pw-for-tests-1")

    @classmethod
    def with_role(cls, role: str, union: Union, **kwargs) -> User:
        user = cls(**kwargs)
        return user_set_role(user=user, role=role, union=union)


def caseworker(union: Union, **kwargs) -> User:
    return UserFactory.with_role(Role.CASEWORKER, union, **kwargs)


def town_reviewer(union: Union, **kwargs) -> User:
    return UserFactory.with_role(Role.TOWN_REVIEWER, union, **kwargs)


def district_officer(union: Union, **kwargs) -> User:
    return UserFactory.with_role(Role.DISTRICT_OFFICER, union, **kwargs)
