"""Read one YAML file into plain values, keeping the line and column of every node.

YAML 1.2 core types, not PyYAML's 1.1 defaults: only true/false (any case variant) are booleans,
``on``/``yes``/``NO`` stay strings, dates stay ISO strings, ``0777`` is the decimal 777. This module
reads the file (its size limit; other encodings (UTF-16/32), NUL bytes and invalid UTF-8 are
refused with their position) and holds the document; ``yamltypes`` types the scalars,
``yamlnodes`` builds the values from the C parser's event stream within the nesting, node and
alias limits, ``yamlmarks`` packs the positions.

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from amtflow.bounded import NotReadable, read_bounded
from amtflow.errors import UsageError

from .yamlmarks import FIRST, KeepText, Path_, Position, YamlProblem, unpacked
from .yamlnodes import NODES_ENV, Incomplete, NodeBuilder, ParserDepthLimit

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # no libyaml: the pure-Python parser gives the same events
    _Loader = yaml.SafeLoader

MAX_BYTES = 4 * 1024 * 1024
MAX_NODES = 250_000  # ~18,000 jobs in one file; a hostile file is refused in about a second
# A trusted file past those (a schedule of 100,000 jobs is ~400,000 nodes) is let in by raising
# the node limit in the environment: the byte limit grows with it. The defaults stay what an
# untrusted file (a pull request in pre-commit) gets: each node costs the loader ~400 bytes, so
# 250,000 nodes is ~150 MB and ~2 s of CPU before the refusal; the ceiling keeps a typo from
# turning the limits off.
CEILING_NODES = 10_000_000
BYTES_PER_NODE = 64
_BOMS = {
    b"\xff\xfe\0\0": "UTF-32",
    b"\0\0\xfe\xff": "UTF-32",
    b"\xff\xfe": "UTF-16",
    b"\xfe\xff": "UTF-16",
}


@dataclass
class YamlDocument:
    """One file's plain values, with the position of every node and of every mapping key."""

    path: Path
    raw: bytes
    data: Any
    # each position packed into one int (``yamlmarks``; issue 16)
    positions: dict[Path_, int] = field(default_factory=dict)
    key_positions: dict[Path_, int] = field(default_factory=dict)
    complete: bool = True  # False: only collections and list items have their position yet
    nodes: int = 0  # as written (an alias counts once): what the limits count
    keep_text: KeepText | None = field(default=None, repr=False)

    def position(self, path: Path_, *, key: bool = False) -> Position:
        """Where the node at ``path`` is (its key's position with ``key``); else its parent's."""
        if not self.complete and (key or path not in self.positions):
            self._complete()
        if key and path in self.key_positions:
            return unpacked(self.key_positions[path])
        while path and path not in self.positions:
            path = path[:-1]
        return unpacked(self.positions.get(path, FIRST))

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
            document.data = NodeBuilder(document, keep_text, _Loader, max_nodes=max_nodes).build(
                text
            )
        except ParserDepthLimit:
            document = YamlDocument(path, raw, None, complete=complete, keep_text=keep_text)
            builder = NodeBuilder(document, keep_text, yaml.SafeLoader, max_nodes=max_nodes)
            document.data = builder.build(text)
    except Incomplete:
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
    try:  # a FIFO (put there after a check, or never checked: a scenario) is refused, not awaited
        raw = read_bounded(path, max_bytes)
    except NotReadable as exc:
        if not exc.size:
            raise YamlProblem(f"cannot read file: {exc.why}", rule="file") from None
        raise YamlProblem(
            f"file too large ({exc.size} bytes; the limit is {max_bytes}; for a trusted file "
            f"raise {NODES_ENV})",
            rule="limit",
        ) from None
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
