"""Notification categories and the channels each goes to: the tenant's defaults (set by HR) and a
person's own choice per category, which comes first.

A category groups templates a person thinks of together (proposals, sessions, reminders, reviews,
digests). For each category a person may name the channels they want (an empty set: none); without a
choice of theirs the tenant's default for the category applies, and without that, the person's general
switches (e-mail, in-app, a webhook endpoint)."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final

from services.notification.domain.channels import Channel
from services.notification.domain.templates import Template
from services.shared.errors import InvalidArgument


class Category(enum.StrEnum):
    PROPOSALS = "proposals"
    SESSIONS = "sessions"
    REMINDERS = "reminders"
    REVIEWS = "reviews"
    DIGESTS = "digests"


CATEGORY_OF: Final[Mapping[Template, Category]] = MappingProxyType(
    {
        Template.ENROLLED: Category.PROPOSALS,
        Template.MATCH_PROPOSED: Category.PROPOSALS,
        Template.MATCH_ACCEPTED: Category.PROPOSALS,
        Template.MATCH_DECLINED: Category.PROPOSALS,
        Template.MATCH_ACTIVATED: Category.PROPOSALS,
        Template.MATCH_ENDED: Category.PROPOSALS,
        Template.SESSION_SCHEDULED: Category.SESSIONS,
        Template.SESSION_MOVED: Category.SESSIONS,
        Template.SESSION_CANCELLED: Category.SESSIONS,
        Template.SESSION_REMINDER: Category.REMINDERS,
    }
)

# Channels per category; a category absent from the mapping has no choice made for it.
CategoryChannels = Mapping[Category, frozenset[Channel]]
NO_CHOICES: Final[CategoryChannels] = MappingProxyType({})


def category_of(template: Template) -> Category:
    return CATEGORY_OF[template]


def chosen_channels(
    template: Template, own: CategoryChannels, tenant_defaults: CategoryChannels
) -> frozenset[Channel] | None:
    """The channels chosen for the template's category: the person's, else the tenant's; None when
    neither chose (the person's general switches then apply)."""
    category = category_of(template)
    if category in own:
        return own[category]
    return tenant_defaults.get(category)


def parse_category_channels(
    entries: Iterable[tuple[str, Iterable[str]]], field: str = "categories"
) -> CategoryChannels:
    """(category, channels) pairs as the API sends them, checked; a category named twice is refused."""
    parsed: dict[Category, frozenset[Channel]] = {}
    for index, (name, channels) in enumerate(entries):
        try:
            category = Category(name.strip().lower())
        except ValueError:
            known = ", ".join(item.value for item in Category)
            raise InvalidArgument(f"{field}[{index}].category", f"unknown category; known: {known}") from None
        if category in parsed:
            raise InvalidArgument(f"{field}[{index}].category", "named twice")
        wanted: set[Channel] = set()
        for channel in channels:
            try:
                wanted.add(Channel(channel.strip().lower()))
            except ValueError:
                known = ", ".join(item.value for item in Channel)
                raise InvalidArgument(
                    f"{field}[{index}].channels", f"unknown channel; known: {known}"
                ) from None
        parsed[category] = frozenset(wanted)
    return MappingProxyType(parsed)


def as_json(choices: CategoryChannels) -> dict[str, list[str]]:
    return {category.value: sorted(channel.value for channel in choices[category]) for category in choices}


def from_json(stored: Mapping[str, Iterable[str]] | None) -> CategoryChannels:
    if not stored:
        return NO_CHOICES
    parsed = {
        Category(name): frozenset(Channel(item) for item in channels) for name, channels in stored.items()
    }
    return MappingProxyType(parsed)
