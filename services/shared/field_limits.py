"""Bounds on every string of every request, checked at the gRPC edge before a request becomes a command.

One shared set of limits (characters, not bytes):

=============  ======  ==========================================================================
``ID``         128     ids, tenants, idempotency keys (the same bound as ``services.shared.ids``)
``NAME``       200     names, tags, skills, locations, languages, template names, mask paths
``SHORT_TEXT`` 500     reasons, goal texts, override reasons
``LONG_TEXT``  2000    notes, messages, agendas, comments, URLs
``DOCUMENT``   5000    a program's description, a session's notes
``TOKEN``      1024    page tokens (opaque; they carry a listing's sort key)
=============  ======  ==========================================================================

Every service names the limit of each string field of its requests in one table (:class:`RequestLimits`
over its service descriptor, with :data:`COMMON_BOUNDS` for the messages of ``common.proto``); a table
that leaves a string field of a request without a limit is refused when the service is built, so a field
added to the contract cannot slip past. A value over its limit, or with a NUL character, is refused
with INVALID_ARGUMENT naming the field's path (``profile.goals[0].what``) and the limit, never cut. A
repeated field holds at most :data:`MAX_ITEMS` items. Required ids that are empty are refused the same
way. A domain may bound a field more tightly (a language tag, say); it refuses in the same terms.

Hand-written rather than protovalidate: the bounds would need ``buf.validate`` options in the contracts,
a BSR dependency and a CEL runtime for what is a length check per field.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from google.protobuf.descriptor import Descriptor, FieldDescriptor, ServiceDescriptor
from google.protobuf.message import Message

from services.shared.errors import InvalidArgument
from services.shared.ids import MAX_ID_LENGTH


@dataclass(frozen=True)
class Limit:
    name: str
    max_length: int


ID: Final = Limit("id", MAX_ID_LENGTH)
NAME: Final = Limit("name", 200)
SHORT_TEXT: Final = Limit("short text", 500)
LONG_TEXT: Final = Limit("long text", 2000)
DOCUMENT: Final = Limit("document", 5000)
TOKEN: Final = Limit("token", 1024)
LIMITS: Final = (ID, NAME, SHORT_TEXT, LONG_TEXT, DOCUMENT, TOKEN)

MAX_ITEMS: Final = 500
NUL: Final = "\x00"
STRING: Final = FieldDescriptor.TYPE_STRING
MESSAGE: Final = FieldDescriptor.TYPE_MESSAGE

# The messages of common.proto (and the well-known types) that requests carry, by full field name.
COMMON_BOUNDS: Final[Mapping[str, Limit]] = {
    "mentoring.v1.PageRequest.page_token": TOKEN,
    "google.protobuf.FieldMask.paths": NAME,
    "mentoring.v1.Goal.goal_id": ID,
    "mentoring.v1.Goal.what": SHORT_TEXT,
    "mentoring.v1.Goal.metric": SHORT_TEXT,
    "mentoring.v1.Goal.target": SHORT_TEXT,
    "mentoring.v1.Goal.skill_tags": NAME,
    "mentoring.v1.Eligibility.departments": NAME,
    "mentoring.v1.Eligibility.divisions": NAME,
    "mentoring.v1.Eligibility.locations": NAME,
    "mentoring.v1.Preferences.must_speak_languages": NAME,
    "mentoring.v1.Profile.skills_offered": NAME,
    "mentoring.v1.Profile.skills_wanted": NAME,
    "mentoring.v1.Profile.nominated_mentor_ids": ID,
    "mentoring.v1.Profile.languages": NAME,
    "mentoring.v1.Profile.requested_skill_areas": NAME,
    "mentoring.v1.Program.program_id": ID,
    "mentoring.v1.Program.tenant": ID,
    "mentoring.v1.Program.name": NAME,
    "mentoring.v1.Program.description": DOCUMENT,
    "mentoring.v1.Program.reverse_skill": NAME,
    "mentoring.v1.Program.manager_ids": ID,
}

S = TypeVar("S")


def string_fields(message: Descriptor) -> Iterator[FieldDescriptor]:
    """Every string field reachable from ``message`` (nested and repeated ones included), each once."""
    seen: set[str] = set()
    pending = [message]
    while pending:
        descriptor = pending.pop()
        if descriptor.full_name in seen:
            continue
        seen.add(descriptor.full_name)
        for field in descriptor.fields:
            if field.type == FieldDescriptor.TYPE_STRING:
                yield field
            elif field.type == FieldDescriptor.TYPE_MESSAGE:
                pending.append(field.message_type)


def _all_fields(message: Descriptor) -> Iterator[FieldDescriptor]:
    seen: set[str] = set()
    pending = [message]
    while pending:
        descriptor = pending.pop()
        if descriptor.full_name not in seen:
            seen.add(descriptor.full_name)
            yield from descriptor.fields
            pending.extend(f.message_type for f in descriptor.fields if f.type == MESSAGE)


class RequestLimits:
    """The limits of one gRPC service's requests, and the required ids of each method."""

    def __init__(
        self,
        service: ServiceDescriptor,
        bounds: Mapping[str, Limit],
        required: Mapping[str, Sequence[str]],
    ) -> None:
        self.service = service
        self.bounds = {**COMMON_BOUNDS, **bounds}
        self._required = {name: tuple(fields) for name, fields in required.items()}
        methods = {method.name: method for method in service.methods}
        unbounded = sorted(
            {
                field.full_name
                for method in service.methods
                for field in string_fields(method.input_type)
                if field.full_name not in self.bounds
            }
        )
        if unbounded:
            raise ValueError(f"{service.full_name}: no limit for {', '.join(unbounded)}")
        # What the check needs of each field, read once (descriptor attributes are slow to read).
        self._plan: dict[FieldDescriptor, tuple[int, bool, str, Limit | None]] = {
            field: (field.type, field.is_repeated, field.name, self.bounds.get(field.full_name))
            for method in service.methods
            for field in _all_fields(method.input_type)
        }
        for method_name, fields in self._required.items():
            if method_name not in methods:
                raise ValueError(f"{service.full_name} has no method {method_name}")
            for name in fields:
                if name not in methods[method_name].input_type.fields_by_name:
                    raise ValueError(f"{method_name}: its request has no field {name}")

    def limit_of(self, field: FieldDescriptor) -> Limit:
        return self.bounds[field.full_name]

    def check(self, method_name: str, request: Message) -> None:
        """Raise InvalidArgument naming every field of ``request`` over its limit or required and empty."""
        violations = list(self._violations(request, ""))
        if not violations:
            for name in self._required.get(method_name, ()):
                value = getattr(request, name)
                if isinstance(value, str) and not value.strip():
                    violations.append((name, "is required"))
                elif not isinstance(value, str) and len(value) == 0:
                    violations.append((name, "must name at least one"))
        if violations:
            (field, message), *more = violations
            raise InvalidArgument(field, message, more)

    def _violations(self, message: Message, prefix: str) -> Iterator[tuple[str, str]]:
        # The common case (nothing wrong) costs a length per string and one join per repeated field;
        # paths are only spelt out for a field at fault.
        for field, value in message.ListFields():
            kind, repeated, name, limit = self._plan[field]
            if kind == STRING:
                assert limit is not None
                if not repeated:
                    if len(value) > limit.max_length or NUL in value:
                        yield from self._text_violations(limit, prefix + name, value)
                elif len(value) > MAX_ITEMS:
                    yield prefix + name, f"must hold at most {MAX_ITEMS} items"
                elif max(map(len, value)) > limit.max_length or NUL in "".join(value):
                    for index, item in enumerate(value):
                        yield from self._text_violations(limit, f"{prefix}{name}[{index}]", item)
            elif kind == MESSAGE:
                if not repeated:
                    yield from self._violations(value, f"{prefix}{name}.")
                elif len(value) > MAX_ITEMS:
                    yield prefix + name, f"must hold at most {MAX_ITEMS} items"
                else:
                    for index, item in enumerate(value):
                        yield from self._violations(item, f"{prefix}{name}[{index}].")
            elif repeated and len(value) > MAX_ITEMS:
                yield prefix + name, f"must hold at most {MAX_ITEMS} items"

    @staticmethod
    def _text_violations(limit: Limit, path: str, value: str) -> Iterator[tuple[str, str]]:
        if len(value) > limit.max_length:
            yield path, f"must be at most {limit.max_length} characters (the {limit.name} limit)"
        elif NUL in value:
            yield path, "must not contain NUL characters"


def bounded(limits: RequestLimits) -> Callable[[type[S]], type[S]]:
    """Class decorator for a servicer: each RPC of ``limits.service`` checks its request first."""

    def decorate(cls: type[S]) -> type[S]:
        for method in limits.service.methods:
            original = getattr(cls, method.name, None)
            if original is None or not inspect.iscoroutinefunction(original):
                raise TypeError(f"{cls.__name__}.{method.name} is not an async RPC method")
            setattr(cls, method.name, _checked(limits, method.name, original))
        return cls

    return decorate


def _checked(limits: RequestLimits, method_name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    async def checked(self: object, request: Message, context: object) -> Any:
        limits.check(method_name, request)
        return await original(self, request, context)

    return checked
