"""Page facts to bytes and back, for the cache and for worker processes.

`marshal` is used on plain tuples, lists, dicts and scalars only: it is fast
and, unlike pickle, loading never runs code, so a cache file someone else
wrote (a CI cache shared between branches) cannot execute anything. Dates
from front matter are tagged so they come back as dates.
"""

from __future__ import annotations

import datetime
import marshal
import zlib
from collections.abc import Callable, Hashable
from dataclasses import fields, is_dataclass
from functools import cache
from types import UnionType
from typing import Any, Union, cast, get_args, get_origin, get_type_hints

from handbook_lint.checks.registry import Finding
from handbook_lint.parsing.facts import PageFacts, PageSummary

FORMAT = 16  # bump when the encoded shape changes
_TAG = "\x00hl:"


def _plain(value: Any) -> Any:
    """Front matter values as marshal-able data (dates tagged)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime.datetime):
        return (_TAG + "datetime", value.isoformat())
    if isinstance(value, datetime.date):
        return (_TAG + "date", value.isoformat())
    if isinstance(value, datetime.time):
        return (_TAG + "time", value.isoformat())
    if isinstance(value, str | int | float | bool | bytes) or value is None:
        return value
    if isinstance(value, set | frozenset | tuple):
        return [_plain(v) for v in value]
    return str(value)


def _restore(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _restore(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_restore(v) for v in value]
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        kind, text = value
        if kind == _TAG + "datetime":
            return datetime.datetime.fromisoformat(text)
        if kind == _TAG + "date":
            return datetime.date.fromisoformat(text)
        if kind == _TAG + "time":
            return datetime.time.fromisoformat(text)
    return value


# A dataclass is encoded as the tuple of its fields, in declaration order, each
# by its type: a nested dataclass (or a list of them) the same way, a value of
# type Any (front matter) tagged with `_plain`, anything else as it is (marshal
# keeps tuples, lists and dicts). Adding a fact to `PageFacts` needs nothing
# here but a FORMAT bump. The packing and unpacking functions are generated
# from the fields once (as dataclasses generates `__init__`): as fast as
# hand-written ones, which matters for thousands of pages per run.


@cache
def _packer(cls: Any) -> Callable[[Any], tuple[Any, ...]]:
    packer: Callable[[Any], tuple[Any, ...]] = _generate(cls, pack=True)
    return packer


@cache
def _unpacker(cls: Any) -> Callable[[tuple[Any, ...]], Any]:
    unpacker: Callable[[tuple[Any, ...]], Any] = _generate(cls, pack=False)
    return unpacker


_SCALARS = (str, int, float, bool, bytes, type(None))


def _marshallable(kind: Any) -> bool:
    """A type marshal keeps as it is: scalars, and tuples, lists, dicts and
    unions of them (no dataclass inside: those need a packer)."""
    if kind in _SCALARS:
        return True
    origin = get_origin(kind)
    if origin in (list, tuple, dict, Union, UnionType):
        return all(arg is Ellipsis or _marshallable(arg) for arg in get_args(kind))
    return False


def _generate(cls: Any, pack: bool) -> Any:
    hints = get_type_hints(cls)
    names: dict[str, Any] = {"_plain": _plain, "_restore": _restore, "cls": cls}
    parts = []
    for index, f in enumerate(fields(cls)):
        value = f"o.{f.name}" if pack else f"d[{index}]"
        expr = _expression(hints[f.name], value, pack, names)
        if expr is None:
            raise TypeError(
                f"the cache codec cannot carry {cls.__name__}.{f.name}: {hints[f.name]}"
            )
        parts.append(expr)
    if pack:
        source = f"def generated(o):\n    return ({', '.join(parts)},)\n"
    elif _frozen_slots(cls):
        # A frozen class's __init__ sets each field through object.__setattr__:
        # its slots are set directly instead (the 6,505 findings a warm run of
        # the handbook reads: 38 ms became 26). A row of another length is damage.
        lines = [f"    if len(d) != {len(parts)}:\n        raise ValueError('row length')"]
        lines.append("    o = _new(cls)")
        for index, (f, expr) in enumerate(zip(fields(cls), parts, strict=True)):
            names[f"_set{index}"] = cls.__dict__[f.name].__set__
            lines.append(f"    _set{index}(o, {expr})")
        source = "def generated(d):\n" + "\n".join(lines) + "\n    return o\n"
        names["_new"] = object.__new__
    else:
        source = f"def generated(d):\n    return cls({', '.join(parts)})\n"
    exec(compile(source, f"<codec {cls.__name__}>", "exec"), names)  # our own field names
    return names["generated"]


def _frozen_slots(cls: Any) -> bool:
    """A frozen dataclass with slots of its own whose __init__ is the generated
    one and only sets its fields (no __post_init__, no field left out of it);
    any other class is built through its __init__."""
    params = getattr(cls, "__dataclass_params__", None)
    init = getattr(getattr(cls, "__init__", None), "__code__", None)
    return (
        params is not None
        and params.frozen
        and params.init
        and "__slots__" in cls.__dict__
        and init is not None
        and init.co_filename == "<string>"  # (what dataclasses generates; not one written)
        and not hasattr(cls, "__post_init__")
        and all(f.init and f.name in cls.__dict__ for f in fields(cls))
    )


def _expression(kind: Any, value: str, pack: bool, names: dict[str, Any]) -> str | None:
    """Code that packs (or unpacks) `value` of type `kind`, or None when marshal
    cannot carry it: a dataclass (alone, optional, in a list or a tuple) by its
    generated function, Any by the date tags, marshal's own types as they are."""
    args: tuple[Any, ...] = get_args(kind)
    origin = get_origin(kind)
    if is_dataclass(kind):
        name, cls = f"f{len(names)}", cast(Hashable, kind)
        names[name] = _packer(cls) if pack else _unpacker(cls)
        return f"{name}({value})"
    if origin in (Union, UnionType) and len(args) == 2 and type(None) in args:
        inner = next(a for a in args if a is not type(None))
        if is_dataclass(inner):
            expr = _expression(inner, "v", pack, names)
            return f"(None if {value} is None else (lambda v: {expr})({value}))"
    if origin in (list, tuple) and args and is_dataclass(args[0]):
        item = f"x{len(names)}"  # (named apart from other fields' items: readable code)
        expr = _flat(args[0], item, pack, names) or _expression(args[0], item, pack, names)
        listed = f"[{expr} for {item} in {value}]"
        return listed if origin is list or pack else f"tuple({listed})"
    if Any in args or kind is Any:
        return f"{'_plain' if pack else '_restore'}({value})"
    if _marshallable(kind):
        return value
    return None


def _flat(cls: Any, item: str, pack: bool, names: dict[str, Any]) -> str | None:
    """Code that packs (or unpacks) `item`, one of a list's dataclasses whose
    fields marshal carries as they are, in place: no call of its generated
    function per item (the lists of a page's facts hold thousands). None for
    another class, and for a frozen one (its unpacker sets its slots)."""
    hints = get_type_hints(cls)
    if not all(_marshallable(hints[f.name]) for f in fields(cls)) or _frozen_slots(cls):
        return None
    if pack:
        return "(" + "".join(f"{item}.{f.name}, " for f in fields(cls)) + ")"
    name = f"c{len(names)}"
    names[name] = cls
    return f"{name}({', '.join(f'{item}[{index}]' for index in range(len(fields(cls))))})"


# Every blob starts with a checksum of the rest: damage that still unmarshals
# (an empty tuple in a results row read as "no findings", a summary of the
# right shape and wrong values) is refused before it is read. CRC-32: what it
# guards against is damage, not an adversary (marshal runs no code), and it
# reads the 7.8 MB snapshot the handbook's once was in 3 ms where blake2b took 12.
_CHECK = 4


def _seal(payload: bytes) -> bytes:
    return zlib.crc32(payload).to_bytes(_CHECK, "big") + payload


def _load(blob: bytes) -> Any:
    view = memoryview(blob)
    if len(blob) < _CHECK or zlib.crc32(view[_CHECK:]).to_bytes(_CHECK, "big") != bytes(
        view[:_CHECK]
    ):
        raise DecodeError("damaged cache entry (its checksum does not match)")
    return marshal.loads(view[_CHECK:])


def seal(value: Any) -> bytes:
    """Plain data (marshal's types) as a blob of the cache, with its checksum."""
    return _seal(marshal.dumps(value))


def unseal(blob: bytes) -> Any:
    """The plain data of a blob `seal` made (DecodeError when it is damaged)."""
    try:
        return _load(blob)
    except DecodeError:
        raise
    except (ValueError, EOFError, TypeError) as exc:  # (what marshal raises on damage)
        raise DecodeError(f"bad cache entry: {type(exc).__name__}") from None


def encode(facts: PageFacts) -> bytes:
    return _seal(marshal.dumps((FORMAT, _packer(PageFacts)(facts))))


class DecodeError(Exception):
    pass


def decode(blob: bytes) -> PageFacts:
    try:
        data = _load(blob)
        if not isinstance(data, tuple) or data[0] != FORMAT:
            raise DecodeError("unknown cache format")
        facts: PageFacts = _unpacker(PageFacts)(data[1])
        return facts
    except DecodeError:
        raise
    except Exception as exc:  # (what damage gives marshal and the unpackers; RecursionError)
        raise DecodeError(f"bad cache entry: {type(exc).__name__}") from None


# -- page summaries and a run's findings (the other two things the cache holds) --


def encode_summary(summary: PageSummary) -> bytes:
    return _seal(marshal.dumps(_summary_tuple(summary)))


def decode_summary(blob: bytes) -> PageSummary:
    """A page summary from the cache (DecodeError when the blob is damaged)."""
    try:
        path, meta, events, unstable, includes, links = _load(blob)
        events = [tuple(e) for e in events]
        if not (
            isinstance(path, str)
            and isinstance(meta, dict)
            and isinstance(unstable, bool)
            and all(isinstance(v, str) for v in (*includes, *links))
            and all(
                len(e) == 3
                and isinstance(e[0], str)
                and isinstance(e[1], str)
                and type(e[2]) is int
                for e in events
            )
        ):
            raise DecodeError("bad summary")
        return PageSummary(path, _restore(meta), events, unstable, list(includes), list(links))
    except DecodeError:
        raise
    except Exception as exc:  # (marshal and unpacking raise what damage gives them)
        raise DecodeError(f"bad cache entry: {type(exc).__name__}") from None


def _summary_tuple(summary: PageSummary) -> tuple[Any, ...]:
    return (
        summary.path,
        _plain(summary.meta),
        summary.anchor_events,
        summary.unstable,
        summary.includes,
        summary.links,
    )


Details = tuple[list[tuple[str, str, int]], list[str]]  # (anchor events, links)


class _Lazy:
    """A field of PageSummary a snapshot summary reads when it is first read:
    both lazy fields come from the page's own row at once (see FactStore)."""

    def __init__(self, name: str) -> None:
        self.slot: Any = PageSummary.__dict__[name]

    def __get__(self, summary: Any, owner: Any = None) -> Any:
        if summary is None:
            return self
        try:
            return self.slot.__get__(summary)
        except AttributeError:  # (not read yet)
            source = summary._source
            if source is None:
                raise
            summary.anchor_events, summary.links = source(summary.path, summary._digest)
            summary._source = None
            return self.slot.__get__(summary)

    def __set__(self, summary: Any, value: Any) -> None:
        self.slot.__set__(summary, value)


class _SnapshotSummary(PageSummary):
    """A summary from a snapshot, which holds every page's URL-making facts
    (front matter, includes) and not its anchor events and links (nine tenths
    of a summary): a run reads every page's URL, and the anchors and links of
    few pages (those linked to, those a change may break), each from its own
    row when it is first read."""

    __slots__ = ("_digest", "_source")
    anchor_events = _Lazy("anchor_events")
    links = _Lazy("links")

    def __init__(
        self,
        path: str,
        digest: str,
        meta: dict[str, Any],
        unstable: bool,
        includes: list[str],
        source: Callable[[str, str], Details],
    ) -> None:
        self.path, self.meta, self.unstable, self.includes = path, meta, unstable, includes
        self._digest = digest
        self._source: Callable[[str, str], Details] | None = source

    def __eq__(self, other: object) -> bool:  # (a summary, however it was read)
        if not isinstance(other, PageSummary):
            return NotImplemented
        return all(getattr(self, f.name) == getattr(other, f.name) for f in fields(PageSummary))

    __hash__ = None  # type: ignore[assignment]  # (as PageSummary: mutable, unhashable)


def bound(summary: PageSummary, source: Callable[[str, str], Details]) -> PageSummary:
    """`summary` with its anchors and links read by `source`, when it is from a
    snapshot and they are not read yet: the store that takes it from a snapshot
    it shares (the site before a change shares the one of the site now) has the
    bytes of that version, should its row be gone, and another may not."""
    if not isinstance(summary, _SnapshotSummary) or summary._source in (None, source):
        return summary
    return _SnapshotSummary(
        summary.path, summary._digest, summary.meta, summary.unstable, summary.includes, source
    )


def from_snapshot(summary: PageSummary) -> bool:
    return isinstance(summary, _SnapshotSummary)


def encode_snapshot(summaries: dict[tuple[str, str], PageSummary]) -> bytes:
    """Every page's summary but its anchor events and links, by (path, content
    hash), in one blob."""
    rows = [
        (path, digest, s.path, _plain(s.meta), s.unstable, s.includes)
        for (path, digest), s in summaries.items()
    ]
    return _seal(marshal.dumps((FORMAT, rows)))


def decode_snapshot(
    blob: bytes, details: Callable[[str, str], Details]
) -> dict[tuple[str, str], PageSummary]:
    """The summaries of a snapshot (DecodeError when it is damaged or of another
    format), whose anchor events and links `details(path, hash)` gives when they
    are read. One checksum covers them all, so they are not checked one by one."""
    try:
        version, rows = _load(blob)
        if version != FORMAT:
            raise DecodeError("unknown cache format")
        out: dict[tuple[str, str], PageSummary] = {}
        for path, digest, same, meta, unstable, includes in rows:
            if not isinstance(path, str) or not isinstance(digest, str) or same != path:
                raise DecodeError("bad snapshot")
            out[(path, digest)] = _SnapshotSummary(
                path, digest, _restore(meta), unstable, includes, details
            )
        return out
    except DecodeError:
        raise
    except Exception as exc:  # (what damage gives marshal and the unpacking)
        raise DecodeError(f"bad cache entry: {type(exc).__name__}") from None


def encode_findings(findings: list[Finding]) -> bytes:
    return _seal(marshal.dumps((FORMAT, [_packer(Finding)(f) for f in findings])))


def decode_findings(blob: bytes) -> list[Finding] | None:
    try:
        version, rows = _load(blob)
        if version != FORMAT:
            return None
        unpack = _unpacker(Finding)
        return [unpack(row) for row in rows]
    except Exception:  # (a damaged result is no result: the run checks again)
        return None
