"""Read one YAML file into plain values, keeping the line and column of every node.

YAML 1.2 core types, not PyYAML's 1.1 defaults: only true/false (any case variant) are booleans,
``on``/``yes``/``NO`` stay strings, dates stay ISO strings, ``0777`` is the decimal 777. The C
parser's event stream is consumed in one pass that builds the values, records positions, and
enforces the limits that turn hostile input into a clean error: file size, nesting depth,
node count (a few megabytes of ``{a},`` are millions of nodes), alias expansion ("billion
laughs"); duplicate keys are errors. Other encodings (UTF-16/32), NUL bytes and invalid UTF-8
are refused with their position.

Positions are kept for what a valid file's model needs (every mapping and list, and every item of
a list: a job, a dependency, an include); the position of a key or of a scalar in a mapping,
which only a problem asks for, comes from reading the file again the first time one is asked for
(issue 16: a position costs ~200 bytes, and most nodes are such scalars and keys).

A caller may name the nodes whose value is text (``keep_text``): a plain scalar there stays
exactly as written (``007``, ``1.50``, ``1e3``), since AMT receives it as text.

The depth limit speaks in amtflow's words whichever parser is underneath: libyaml 0.2.5+
refuses flow nesting past 1000 levels while scanning ahead, before any event reaches the
builder; such a file is far past ``MAX_DEPTH``, so it is parsed again with the pure-Python
parser (no limit of its own, and its lookahead is bounded by the 1024-character simple key),
which the builder stops at ``MAX_DEPTH`` with the position of the first node too deep.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from amtflow.errors import UsageError

from .yamlsyntax import syntax_problem

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # no libyaml: the pure-Python parser gives the same events
    _Loader = yaml.SafeLoader

MAX_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 64
MAX_ALIAS_NODES = 100_000
MAX_NODES = 250_000  # ~18,000 jobs in one file; a hostile file is refused in about a second
# A trusted file past those (a schedule of 100,000 jobs is ~400,000 nodes) is let in by raising
# the node limit in the environment: the byte limit grows with it. The defaults stay what an
# untrusted file (a pull request in pre-commit) gets: each node costs the loader ~400 bytes, so
# 250,000 nodes is ~150 MB and ~2 s of CPU before the refusal; the ceiling keeps a typo from
# turning the limits off.
NODES_ENV = "AMTFLOW_MAX_YAML_NODES"
CEILING_NODES = 10_000_000
BYTES_PER_NODE = 64
_BOMS = {
    b"\xff\xfe\0\0": "UTF-32",
    b"\0\0\xfe\xff": "UTF-32",
    b"\xff\xfe": "UTF-16",
    b"\xfe\xff": "UTF-16",
}

Path_ = tuple[Any, ...]
Position = tuple[int, int]
KeepText = Callable[[Path_], bool]


class YamlProblem(Exception):
    """A file that cannot be read as YAML definitions, at a 1-based line and column."""

    def __init__(self, message: str, line: int = 1, column: int = 1, rule: str = "yaml") -> None:
        super().__init__(message)
        self.message, self.line, self.column, self.rule = message, line, column, rule


@dataclass
class YamlDocument:
    """One file's plain values, with the position of every node and of every mapping key."""

    path: Path
    raw: bytes
    data: Any
    # each position packed into one int (``_mark``): a tuple of two ints costs three objects,
    # and a 100,000-job file has over a million positions (issue 16)
    positions: dict[Path_, int] = field(default_factory=dict)
    key_positions: dict[Path_, int] = field(default_factory=dict)
    complete: bool = True  # False: only collections and list items have their position yet
    keep_text: KeepText | None = field(default=None, repr=False)

    def position(self, path: Path_, *, key: bool = False) -> Position:
        """Where the node at ``path`` is (its key's position with ``key``); else its parent's."""
        if not self.complete and (key or path not in self.positions):
            self._complete()
        if key and path in self.key_positions:
            return _unpacked(self.key_positions[path])
        while path and path not in self.positions:
            path = path[:-1]
        return _unpacked(self.positions.get(path, _FIRST))

    def _complete(self) -> None:
        """Every node's and key's position, from the file read again (it read once: it reads
        the same way again)."""
        text, ceiling = _decode(self.raw), CEILING_NODES  # within its limits the first time
        again = _read(self.path, self.raw, text, self.keep_text, max_nodes=ceiling, complete=True)
        self.positions, self.key_positions = again.positions, again.key_positions
        self.complete = True


def read_document(path: Path, keep_text: KeepText | None = None) -> YamlDocument:
    """Read ``path`` with the size, encoding and YAML limits; raise ``YamlProblem``.

    A plain scalar at a node for which ``keep_text(path)`` is true keeps its text as written.
    """
    max_bytes, max_nodes = file_limits()
    raw = _read_bytes(path, max_bytes)
    return _read(path, raw, _decode(raw), keep_text, max_nodes=max_nodes)


def _read(
    path: Path,
    raw: bytes,
    text: str,
    keep_text: KeepText | None,
    *,
    max_nodes: int,
    complete: bool = False,
) -> YamlDocument:
    """The document of ``text``; with ``complete``, the position of every node and key."""
    document = YamlDocument(path, raw, None, complete=complete, keep_text=keep_text)
    try:
        try:
            document.data = _Builder(document, keep_text, max_nodes=max_nodes).build(text)
        except _ParserDepthLimit:
            document = YamlDocument(path, raw, None, complete=complete, keep_text=keep_text)
            builder = _Builder(document, keep_text, yaml.SafeLoader, max_nodes=max_nodes)
            document.data = builder.build(text)
    except _Incomplete:
        return _read(path, raw, text, keep_text, max_nodes=max_nodes, complete=True)
    return document


def file_limits() -> tuple[int, int]:
    """The bytes and YAML nodes one definitions file may have: the defaults, or the node limit
    ``AMTFLOW_MAX_YAML_NODES`` sets (with ``BYTES_PER_NODE`` bytes a node); ``UsageError`` for
    a value that is not a whole number up to ``CEILING_NODES``."""
    given = os.environ.get(NODES_ENV, "").strip()
    if not given:
        return MAX_BYTES, MAX_NODES
    if not re.fullmatch(r"[0-9]{1,9}", given) or not 1 <= int(given) <= CEILING_NODES:
        raise UsageError(
            f"{NODES_ENV} must be a whole number of YAML nodes up to {CEILING_NODES}, "
            f"not '{given[:40]}'"
        )
    return max(MAX_BYTES, int(given) * BYTES_PER_NODE), int(given)


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise YamlProblem(
                f"file too large ({size} bytes; the limit is {max_bytes}; for a trusted file "
                f"raise {NODES_ENV})",
                rule="limit",
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise YamlProblem(f"cannot read file: {exc.strerror or exc}", rule="file") from exc
    _refuse_other_encodings(raw)
    if b"\0" in raw:
        line = raw[: raw.index(b"\0")].count(b"\n") + 1
        raise YamlProblem("binary file (NUL byte): not a YAML definition file", line, rule="file")
    return raw


def _refuse_other_encodings(raw: bytes) -> None:
    for bom, encoding in _BOMS.items():
        if raw.startswith(bom):
            raise YamlProblem(f"{encoding} file (byte order mark): save it as UTF-8", rule="file")


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        byte = raw[exc.start]
        raise YamlProblem(f"not valid UTF-8 (byte 0x{byte:02x})", line, column, "file") from exc


_NULL = frozenset(("", "~", "null", "Null", "NULL"))
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"[-+]?[0-9]+\Z")
_INT_BASE = re.compile(r"0o[0-7]+\Z|0x[0-9a-fA-F]+\Z")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_SPECIAL_FLOAT = {
    ".inf": float("inf"),
    "+.inf": float("inf"),
    "-.inf": float("-inf"),
    ".nan": float("nan"),
}
_MAYBE_TYPED = frozenset("0123456789+-.~nNtTfF")


def resolve_plain(text: str) -> Any:
    """The YAML 1.2 core schema value of a plain (unquoted, untagged) scalar."""
    if text and text[0] not in _MAYBE_TYPED:
        return text
    if text in _NULL:
        return None
    if text in _BOOL:
        return _BOOL[text]
    if _INT.match(text) or _INT_BASE.match(text):
        return _integer(text)
    if _FLOAT.match(text):
        return float(text)
    return _SPECIAL_FLOAT.get(text.lower(), text)


def _integer(text: str) -> int | str:
    """Decimal, ``0o`` octal or ``0x`` hex; a number too long for Python stays text."""
    try:
        return int(text, 10) if _INT.match(text) else int(text[2:], 8 if text[1] == "o" else 16)
    except ValueError:  # more digits than int() accepts (CVE-2020-10735 limit)
        return text


_TAG = "tag:yaml.org,2002:"
_TAGGED: dict[str, Callable[[str], Any]] = {
    _TAG + "str": str,
    _TAG + "int": lambda text: int(text, 0),
    _TAG + "float": float,
    _TAG + "bool": lambda text: _BOOL[text],
    _TAG + "null": lambda text: None,
}


class _Incomplete(Exception):
    """A problem whose message needs a position not kept on the first read: read again."""


class _ParserDepthLimit(Exception):
    """The parser refused nesting itself, deeper than amtflow's own limit (see the docstring)."""


_PARSER_DEPTH = ("nesting depth", "too deep")  # libyaml 0.2.5: "exceeded maximum nesting depth"


class _Builder:
    """Consumes the event stream once, building values and positions, enforcing the limits."""

    def __init__(
        self,
        document: YamlDocument,
        keep_text: KeepText | None = None,
        loader: type | None = None,
        *,
        max_nodes: int = MAX_NODES,
    ) -> None:
        self.document = document
        self.max_nodes = max_nodes
        self.keep_text = keep_text
        self.loader = loader or _Loader
        self.complete = document.complete
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.nodes = 0
        self.parsed = 0
        self.alias_nodes = 0

    def build(self, text: str) -> Any:
        events = self._events(text)
        try:
            next(events)  # StreamStart
            first = next(events)
            if isinstance(first, yaml.StreamEndEvent):
                raise YamlProblem("empty file: expected a mapping of definitions", rule="yaml")
            value = self._node(events, next(events), (), 1)
            next(events)  # DocumentEnd
            extra = next(events)
        except StopIteration:  # pragma: no cover - the parser always ends the stream
            raise YamlProblem("unexpected end of file") from None
        if isinstance(extra, yaml.DocumentStartEvent):
            raise YamlProblem("only one YAML document per file", *_mark(extra))
        return value

    def _events(self, text: str) -> Iterator[yaml.Event]:
        try:
            yield from yaml.parse(text, Loader=self.loader)
        except yaml.MarkedYAMLError as exc:
            if any(words in str(exc.problem) for words in _PARSER_DEPTH):
                if self.loader is not yaml.SafeLoader:
                    raise _ParserDepthLimit from None
                mark = exc.problem_mark
                where = (mark.line + 1, mark.column + 1) if mark else (1, 1)
                raise YamlProblem(
                    f"nesting deeper than {MAX_DEPTH} levels", *where, "limit"
                ) from None
            raise YamlProblem(*syntax_problem(exc, text), rule="yaml") from None
        except yaml.YAMLError as exc:
            raise YamlProblem(f"YAML syntax: {exc}") from None

    def _node(
        self,
        events: Iterator[yaml.Event],
        event: yaml.Event,
        path: Path_,
        depth: int,
        kept: bool = True,
    ) -> Any:
        """The value of the node ``event`` begins; its position kept when ``kept``, when it is
        not a scalar, or when every position is."""
        if depth > MAX_DEPTH:
            raise YamlProblem(f"nesting deeper than {MAX_DEPTH} levels", *_mark(event), "limit")
        if kept or self.complete or not isinstance(event, yaml.ScalarEvent):
            self.document.positions[path] = _packed(event)
        if isinstance(event, yaml.AliasEvent):
            return self._alias(event)
        start = self.nodes
        self.nodes += 1  # with aliases expanded: an anchor's size
        self.parsed += 1  # as written: the parser's work
        if self.parsed > self.max_nodes:
            raise YamlProblem(
                f"more than {self.max_nodes} YAML nodes in one file (refused): split it into "
                f"files joined by include, or for a trusted file raise {NODES_ENV}",
                *_mark(event),
                "limit",
            )
        if isinstance(event, yaml.ScalarEvent):
            value = self._scalar(event, path)
        elif isinstance(event, yaml.MappingStartEvent):
            self._check_tag(event, "map")
            value = self._mapping(events, path, depth)
        elif isinstance(event, yaml.SequenceStartEvent):
            self._check_tag(event, "seq")
            value = self._sequence(events, path, depth)
        else:  # pragma: no cover - the parser emits only these here
            raise YamlProblem("unexpected YAML structure", *_mark(event))
        if event.anchor is not None:
            self.anchors[event.anchor] = (value, self.nodes - start)
        return value

    def _alias(self, event: yaml.AliasEvent) -> Any:
        if event.anchor not in self.anchors:  # pragma: no cover - the parser refuses these
            raise YamlProblem(f"unknown alias *{event.anchor}", *_mark(event))
        value, size = self.anchors[event.anchor]
        self.alias_nodes += size
        self.nodes += size
        if self.alias_nodes > MAX_ALIAS_NODES:
            raise YamlProblem(
                f"aliases expand to more than {MAX_ALIAS_NODES} nodes (refused)",
                *_mark(event),
                "limit",
            )
        return value

    def _scalar(self, event: yaml.ScalarEvent, path: Path_) -> Any:
        if event.implicit[0]:
            value = resolve_plain(event.value)
            if value is None or isinstance(value, str) or not self.keep_text:
                return value
            return event.value if self.keep_text(path) else value
        if event.tag is None or event.tag == "!" or event.implicit[1]:
            return event.value
        convert = _TAGGED.get(event.tag)
        if convert is None:
            raise YamlProblem(f"YAML tag {_short(event.tag)} is not allowed", *_mark(event))
        try:
            return convert(event.value)
        except (ValueError, KeyError):
            raise YamlProblem(
                f"{event.value!r} is not a valid {event.tag}", *_mark(event)
            ) from None

    def _check_tag(self, event: yaml.CollectionStartEvent, kind: str) -> None:
        if event.tag not in (None, "!", _TAG + kind):
            raise YamlProblem(f"YAML tag {_short(event.tag)} is not allowed", *_mark(event))

    def _mapping(self, events: Iterator[yaml.Event], path: Path_, depth: int) -> dict[str, Any]:
        mapping: dict[str, Any] = {}
        key_positions = self.document.key_positions
        for event in events:
            if isinstance(event, yaml.MappingEndEvent):
                return mapping
            key = self._key(event)
            child = path + (key,)
            if key in mapping:
                if not self.complete:  # where the first one stands is not kept: read again
                    raise _Incomplete
                first = _unpacked(key_positions[child])[0]
                raise YamlProblem(
                    f"duplicate key '{key}' (first at line {first})", *_mark(event), "duplicate-key"
                )
            if self.complete:
                key_positions[child] = _packed(event)
            mapping[key] = self._node(events, next(events), child, depth + 1, kept=False)
        raise YamlProblem("unexpected end of file")  # pragma: no cover

    def _key(self, event: yaml.Event) -> str:
        if isinstance(event, yaml.AliasEvent):
            raise YamlProblem("an alias cannot be a mapping key", *_mark(event))
        if isinstance(event, yaml.ScalarEvent) and event.anchor is None:
            return event.value
        if isinstance(event, yaml.ScalarEvent):
            raise YamlProblem("an anchor cannot be on a mapping key", *_mark(event))
        raise YamlProblem("a mapping key must be plain text", *_mark(event))

    def _sequence(self, events: Iterator[yaml.Event], path: Path_, depth: int) -> list[Any]:
        items: list[Any] = []
        for event in events:
            if isinstance(event, yaml.SequenceEndEvent):
                return items
            items.append(self._node(events, event, path + (len(items),), depth + 1))
        raise YamlProblem("unexpected end of file")  # pragma: no cover


def _mark(event: yaml.Event) -> Position:
    mark = event.start_mark
    return (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)


_COLUMNS = 1 << 32  # a packed position: line * _COLUMNS + column
_FIRST = _COLUMNS + 1  # line 1, column 1


def _packed(event: yaml.Event) -> int:
    mark = event.start_mark
    return (mark.line + 1) * _COLUMNS + mark.column + 1 if mark is not None else 0


def _unpacked(packed: int) -> Position:
    line, column = divmod(packed, _COLUMNS)
    return line, column


def _short(tag: str | None) -> str:
    return "!!" + tag[len(_TAG) :] if tag and tag.startswith(_TAG) else str(tag)
