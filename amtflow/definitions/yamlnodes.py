"""The event stream of one YAML file into plain values and the places of its nodes.

The parser's events are consumed in one pass that builds the values, records positions, and
enforces the limits that turn hostile input into a clean error: nesting depth, node count (a
few megabytes of ``{a},`` are millions of nodes), alias expansion ("billion laughs"); duplicate
keys are errors. Which places are kept, and why, is in ``yamlload``'s docstring.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import yaml

from .yamlmarks import KeepText, Path_, YamlProblem, mark, packed, unpacked
from .yamlsyntax import syntax_problem
from .yamltypes import TAG, TAGGED, resolve_plain, short_tag

if TYPE_CHECKING:
    from .yamlload import YamlDocument

MAX_DEPTH = 64
MAX_ALIAS_NODES = 100_000
NODES_ENV = "AMTFLOW_MAX_YAML_NODES"  # raises the node limit for a trusted file (yamlload)
_PARSER_DEPTH = ("nesting depth", "too deep")  # libyaml 0.2.5: "exceeded maximum nesting depth"


class Incomplete(Exception):
    """A problem whose message needs a position not kept on the first read: read again."""


class ParserDepthLimit(Exception):
    """The parser refused nesting itself, deeper than amtflow's own limit (see ``yamlload``)."""


class NodeBuilder:
    """Consumes the event stream once, building values and positions, enforcing the limits."""

    def __init__(
        self, document: YamlDocument, keep_text: KeepText | None, loader: type, *, max_nodes: int
    ) -> None:
        self.document = document
        self.max_nodes = max_nodes
        self.keep_text = keep_text
        self.loader = loader
        self.complete = document.complete
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.nodes = 0
        self.parsed = 0
        self.alias_nodes = 0

    def build(self, text: str) -> Any:
        """The value of the one document in ``text``; ``YamlProblem`` for anything else."""
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
            raise YamlProblem("only one YAML document per file", *mark(extra))
        self.document.nodes = self.parsed
        return value

    def _events(self, text: str) -> Iterator[yaml.Event]:
        try:
            yield from yaml.parse(text, Loader=self.loader)
        except yaml.MarkedYAMLError as exc:
            if any(words in str(exc.problem) for words in _PARSER_DEPTH):
                if self.loader is not yaml.SafeLoader:
                    raise ParserDepthLimit from None
                where = exc.problem_mark
                at = (where.line + 1, where.column + 1) if where else (1, 1)
                raise YamlProblem(f"nesting deeper than {MAX_DEPTH} levels", *at, "limit") from None
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
            raise YamlProblem(f"nesting deeper than {MAX_DEPTH} levels", *mark(event), "limit")
        if kept or self.complete or not isinstance(event, yaml.ScalarEvent):
            self.document.positions[path] = packed(event)
        if isinstance(event, yaml.AliasEvent):
            return self._alias(event)
        if not isinstance(event, yaml.NodeEvent):  # pragma: no cover - the parser emits nodes
            raise YamlProblem("unexpected YAML structure", *mark(event))
        start = self.nodes
        self._count(event)
        value = self._value(events, event, path, depth)
        if event.anchor is not None:
            self.anchors[event.anchor] = (value, self.nodes - start)
        return value

    def _count(self, event: yaml.Event) -> None:
        self.nodes += 1  # with aliases expanded: an anchor's size
        self.parsed += 1  # as written: the parser's work
        if self.parsed > self.max_nodes:
            raise YamlProblem(
                f"more than {self.max_nodes} YAML nodes in one file (refused): split it into "
                f"files joined by include, or for a trusted file raise {NODES_ENV}",
                *mark(event),
                "limit",
            )

    def _value(
        self, events: Iterator[yaml.Event], event: yaml.NodeEvent, path: Path_, depth: int
    ) -> Any:
        if isinstance(event, yaml.ScalarEvent):
            return self._scalar(event, path)
        if isinstance(event, yaml.MappingStartEvent):
            self._check_tag(event, "map")
            return self._mapping(events, path, depth)
        if isinstance(event, yaml.SequenceStartEvent):
            self._check_tag(event, "seq")
            return self._sequence(events, path, depth)
        raise YamlProblem("unexpected YAML structure", *mark(event))  # pragma: no cover

    def _alias(self, event: yaml.AliasEvent) -> Any:
        if event.anchor not in self.anchors:  # pragma: no cover - the parser refuses these
            raise YamlProblem(f"unknown alias *{event.anchor}", *mark(event))
        value, size = self.anchors[event.anchor]
        self.alias_nodes += size
        self.nodes += size
        if self.alias_nodes > MAX_ALIAS_NODES:
            raise YamlProblem(
                f"aliases expand to more than {MAX_ALIAS_NODES} nodes (refused)",
                *mark(event),
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
        convert = TAGGED.get(event.tag)
        if convert is None:
            raise YamlProblem(f"YAML tag {short_tag(event.tag)} is not allowed", *mark(event))
        try:
            return convert(event.value)
        except (ValueError, KeyError):
            raise YamlProblem(f"{event.value!r} is not a valid {event.tag}", *mark(event)) from None

    def _check_tag(self, event: yaml.CollectionStartEvent, kind: str) -> None:
        if event.tag not in (None, "!", TAG + kind):
            raise YamlProblem(f"YAML tag {short_tag(event.tag)} is not allowed", *mark(event))

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
                    raise Incomplete
                first = unpacked(key_positions[child])[0]
                raise YamlProblem(
                    f"duplicate key '{key}' (first at line {first})", *mark(event), "duplicate-key"
                )
            if self.complete:
                key_positions[child] = packed(event)
            mapping[key] = self._node(events, next(events), child, depth + 1, kept=False)
        raise YamlProblem("unexpected end of file")  # pragma: no cover

    def _key(self, event: yaml.Event) -> str:
        if isinstance(event, yaml.AliasEvent):
            raise YamlProblem("an alias cannot be a mapping key", *mark(event))
        if isinstance(event, yaml.ScalarEvent) and event.anchor is None:
            return event.value
        if isinstance(event, yaml.ScalarEvent):
            raise YamlProblem("an anchor cannot be on a mapping key", *mark(event))
        raise YamlProblem("a mapping key must be plain text", *mark(event))

    def _sequence(self, events: Iterator[yaml.Event], path: Path_, depth: int) -> list[Any]:
        items: list[Any] = []
        for event in events:
            if isinstance(event, yaml.SequenceEndEvent):
                return items
            items.append(self._node(events, event, path + (len(items),), depth + 1))
        raise YamlProblem("unexpected end of file")  # pragma: no cover
