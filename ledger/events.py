"""Typed, versioned events: the classes every app's `events.py` declares, and their upcasters.

An event class is a frozen dataclass that names a fact in the past tense:

    @event_class
    @dataclass(frozen=True, slots=True)
    class PaymentPosted(DomainEvent):
        event_type: ClassVar[str] = "PaymentPosted"
        schema_version: ClassVar[int] = 2
        loan_number: str
        received_on: date
        amount_cents: int

`to_payload()` gives the JSON the log stores: the fields (dates as ISO text,
Decimals as text, nested dataclasses as objects, tuples as lists) and, from
version 2 on, `schema_version`. `from_payload()` reads a stored payload of
any version: it runs the registered upcasters from the stored version up to
the class's own, then builds the object, so consumers import the class and
never read a string key. A payload without `schema_version` is version 1:
everything recorded before events were typed. The log is immutable, so an
old event is never rewritten: it is upcast every time it is read.

`decode(record)` picks the class by the record's event type. Classes register
themselves with `@event_class`; an app's events are registered when its
`events` module is imported (each AppConfig.ready() imports it).
"""
from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

from ledger.domain.records import NewEvent, PostingLine, RecordedEvent

VERSION_KEY = "schema_version"

E = TypeVar("E", bound="DomainEvent")
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class EventSchemaError(ValueError):
    """A stored payload that its event class cannot read: the message names the event and the field."""


@dataclasses.dataclass(frozen=True, slots=True)
class DomainEvent:
    """Base of every typed event. Subclasses set `event_type` and `schema_version` and declare fields."""

    event_type: ClassVar[str] = ""
    schema_version: ClassVar[int] = 1
    # Upcasters by the version they read: {1: v1 -> v2, 2: v2 -> v3, ...}, per class.
    upcasters: ClassVar[dict[int, Upcaster]]
    # The fields stored under their own name in every schema version of the class: the only ones a
    # query may filter the stored JSON by (see `payload_path`). Each class's module declares them.
    stored_keys: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def payload_path(cls, name: str) -> str:
        """The lookup of a field in the stored payload (`payload__<key>`), for a query that filters or
        picks by it in the database, where the typed class cannot read; refused for a field whose key
        may differ in an older version (an upcaster renames or derives it)."""
        if name not in cls.stored_keys:
            raise EventSchemaError(f"{cls.event_type} does not declare {name!r} stored under that key in "
                                   "every schema version; read it from the typed event instead")
        return f"payload__{name}"

    def to_payload(self) -> dict[str, Any]:
        return _payload_writer(typing.cast(type, type(self)))(self)

    @classmethod
    def from_payload(cls: type[E], payload: Mapping[str, Any]) -> E:
        data = upcast(cls, payload)
        values = {}
        for name, optional, load in _fields_plan(typing.cast(type, cls)):
            if name not in data:
                if optional:
                    continue
                raise EventSchemaError(f"{cls.event_type} v{cls.schema_version}: the payload has no {name!r}")
            try:
                values[name] = load(data[name])
            except (TypeError, ValueError, KeyError) as error:
                raise EventSchemaError(f"{cls.event_type}: field {name!r} cannot be read: {error}") from error
        return cls(**values)

    def new_event(
        self, *, effective_date: date, postings: tuple[PostingLine, ...] | list[PostingLine] = (),
        idempotency_key: str | None = None,
    ) -> NewEvent:
        """This fact as an event to append, with its business date and double entry."""
        return NewEvent(
            event_type=self.event_type, payload=self.to_payload(), effective_date=effective_date,
            postings=tuple(postings), idempotency_key=idempotency_key, source_fact=self,
        )


_CLASSES: dict[str, type[DomainEvent]] = {}


def event_class(cls: type[E]) -> type[E]:
    """Register a DomainEvent subclass under its event type (once; a second class for a type is refused)."""
    if not cls.event_type:
        raise TypeError(f"{cls.__name__} sets no event_type")
    known = _CLASSES.get(cls.event_type)
    if known is not None and known.__qualname__ != cls.__qualname__:
        raise TypeError(f"{cls.event_type} is already declared by {known.__module__}.{known.__qualname__}")
    if "upcasters" not in cls.__dict__:
        cls.upcasters = {}
    _CLASSES[cls.event_type] = cls
    return cls


def upcaster(cls: type[DomainEvent], *, from_version: int) -> Callable[[Upcaster], Upcaster]:
    """Register fn(payload of from_version) -> payload of from_version + 1 for an event class."""

    def register(fn: Upcaster) -> Upcaster:
        if from_version in cls.upcasters:
            raise TypeError(f"{cls.event_type} already has an upcaster from version {from_version}")
        cls.upcasters[from_version] = fn
        return fn

    return register


def upcast(cls: type[DomainEvent], payload: Mapping[str, Any]) -> dict[str, Any]:
    """The payload brought up to the class's own schema version, without its version key."""
    data = dict(payload)
    version = int(data.pop(VERSION_KEY, 1))
    if version > cls.schema_version:
        raise EventSchemaError(
            f"{cls.event_type} was stored at schema version {version}, newer than this code's "
            f"{cls.schema_version}: deploy the newer code before reading it"
        )
    while version < cls.schema_version:
        step = cls.upcasters.get(version)
        if step is None:
            raise EventSchemaError(f"{cls.event_type} has no upcaster from schema version {version}")
        data = dict(step(data))
        data.pop(VERSION_KEY, None)
        version += 1
    return data


def class_for(event_type: str) -> type[DomainEvent]:
    try:
        return _CLASSES[event_type]
    except KeyError:
        raise EventSchemaError(f"no event class is declared for {event_type!r}") from None


def is_declared(event_type: str) -> bool:
    return event_type in _CLASSES


def declared_types() -> dict[str, type[DomainEvent]]:
    return dict(_CLASSES)


def decode(record: RecordedEvent) -> DomainEvent:
    """The typed fact a recorded event holds, upcast to the current schema."""
    return class_for(record.event_type).from_payload(record.payload)


def _dump(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float)):  # most fields: cents, counts, names (bool is an int)
        return value
    names = _dataclass_fields(type(value))
    if names is not None:
        return _dump_fields(value, names)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (tuple, list)):
        return [_dump(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _dump(v) for k, v in value.items()}
    return value


_FIELD_NAMES: dict[type, tuple[str, ...] | None] = {}
_AS_IS = frozenset({str, int, bool, float, type(None)})


def _dump_fields(value: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """A dataclass's fields as JSON values: `_dump` of each, with the plain ones (most) taken in place."""
    dumped = {}
    for name in names:
        item = getattr(value, name)
        dumped[name] = item if type(item) in _AS_IS else _dump(item)
    return dumped


def _dataclass_fields(kind: type) -> tuple[str, ...] | None:
    """The field names of a dataclass type (an event, or a value in one), None for any other type.

    Once per type: writing a payload is on the path of every event appended,
    and `dataclasses.fields` builds its answer anew on every call.
    """
    try:
        return _FIELD_NAMES[kind]
    except KeyError:
        names = tuple(f.name for f in dataclasses.fields(kind)) if dataclasses.is_dataclass(kind) else None
        _FIELD_NAMES[kind] = names
        return names


@functools.cache
def _payload_writer(cls: type) -> Callable[[Any], dict[str, Any]]:
    """`to_payload` of an event class: its fields dumped as `_dump_fields` does, then any schema version."""
    write = _fields_writer(cls)
    version = cls.schema_version  # type: ignore[attr-defined]
    if version <= 1:
        return write

    def payload(event: Any) -> dict[str, Any]:
        dumped = write(event)
        dumped[VERSION_KEY] = version
        return dumped

    return payload


@functools.cache
def _fields_writer(kind: type) -> Callable[[Any], dict[str, Any]]:
    """`_dump_fields(value, its fields)` for values of one dataclass type, as one generated function.

    Every event appended is written through here (a month of collections: a
    PaymentPosted a loan), and the walk of `_dump_fields` spends most of its
    time dispatching on each value's type. The generated function takes each
    field with the case its annotation predicts, guarded by the value's exact
    type, and hands any other value to `_dump`: for the predicted types the
    case is what `_dump` itself does (plain values as they are, a date's ISO
    text, a nested dataclass's fields, a tuple's items as a list), so the
    payload, and the hash sealed over it, are the same to the byte
    (tests/unit/ledger/test_event_writer.py compares them).
    """
    try:
        hints = _type_hints(kind)
    except (NameError, TypeError):  # annotations it cannot resolve (a class local to a test): no predictions
        hints = {}
    namespace: dict[str, Any] = {"_dump": _dump, "_AS_IS": _AS_IS}
    names = _dataclass_fields(kind) or ()
    # Field names are Python identifiers (dataclass fields): safe as attribute names and, repr'd, as keys.
    lines = [f"    v{i} = value.{name}" for i, name in enumerate(names)]
    items = [f"{name!r}: {_field_case(f'v{i}', hints.get(name), namespace)}" for i, name in enumerate(names)]
    source = "def write(value):\n" + "".join(line + "\n" for line in lines) + "    return {" + ", ".join(items) + "}\n"
    exec(source, namespace)  # nosec B102: generated from the class's own field names and annotations
    return typing.cast(Callable[[Any], dict[str, Any]], namespace["write"])


def _field_case(var: str, hint: Any, namespace: dict[str, Any]) -> str:
    """The expression that dumps `var`, fast for the type `hint` predicts, `_dump` for any other."""
    options = [a for a in typing.get_args(hint) if a is not type(None)] \
        if typing.get_origin(hint) in (typing.Union, types.UnionType) else [hint]
    predicted = options[0] if len(options) == 1 else None
    if predicted is date:
        namespace["_date"] = date
        return f"({var}.isoformat() if type({var}) is _date else {var} if type({var}) in _AS_IS else _dump({var}))"
    if isinstance(predicted, type) and dataclasses.is_dataclass(predicted):
        index = len([k for k in namespace if k.startswith("_nested")])
        namespace[f"_nested{index}"], namespace[f"_write{index}"] = predicted, _fields_writer(predicted)
        return (f"(_write{index}({var}) if type({var}) is _nested{index} "
                f"else {var} if type({var}) in _AS_IS else _dump({var}))")
    if typing.get_origin(predicted) is tuple and typing.get_args(predicted)[:1] == (date,):
        namespace["_date"] = date
        return (f"([x.isoformat() if type(x) is _date else _dump(x) for x in {var}] if type({var}) is tuple "
                f"else {var} if type({var}) in _AS_IS else _dump({var}))")
    return f"({var} if type({var}) in _AS_IS else _dump({var}))"


# Reading a payload is on the projections' path for every event appended and replayed: the annotations
# of a class are resolved once (about half a millisecond each) and each type's reader is built once.


@functools.cache
def _type_hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


@functools.cache
def _fields_plan(cls: type) -> tuple[tuple[str, bool, Callable[[Any], Any]], ...]:
    """(name, has a default, reader) of each field of an event class."""
    hints = _type_hints(cls)
    return tuple(
        (f.name, f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING,
         _loader(hints[f.name]))
        for f in dataclasses.fields(cls)
    )


@functools.cache
def _loader(hint: Any) -> Callable[[Any], Any]:
    """The function that builds a value of the annotated type from its JSON form."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(options) != 1:
            return lambda value: value
        inner = _loader(options[0])
        return lambda value: None if value is None else inner(value)
    if origin is tuple:
        args = typing.get_args(hint)
        item = _loader(args[0] if args else Any)
        return lambda value: tuple(item(v) for v in value)
    if origin is list:
        (arg,) = typing.get_args(hint) or (Any,)
        item = _loader(arg)
        return lambda value: [item(v) for v in value]
    if origin in (dict, Mapping, typing.Mapping):
        args = typing.get_args(hint)
        item = _loader(args[1] if len(args) == 2 else Any)
        return lambda value: {k: item(v) for k, v in value.items()}
    if hint is Any or hint is object:
        return _as_is
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        nested = _type_hints(hint)
        readers = tuple((f.name, _loader(nested[f.name])) for f in dataclasses.fields(hint))
        return lambda value: hint(**{name: read(value[name]) for name, read in readers if name in value})
    if hint is datetime:
        return lambda value: value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if hint is date:
        return lambda value: value if isinstance(value, date) else date.fromisoformat(value)
    if hint is Decimal:
        return lambda value: Decimal(str(value))
    if hint is int:
        return _whole
    if hint is bool:
        return _true_or_false
    if hint is str:
        return _text
    return _as_is


def _as_is(value: Any) -> Any:
    return value


def _whole(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected whole cents or a count, got {value!r}")
    return value


def _true_or_false(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, got {value!r}")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {value!r}")
    return value
