"""Named things of a set of files, indexed by name across the files that define them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from amtflow.model import Location

from .diagnostics import Collector
from .prune import INVALID, listed, mapped
from .sources import SourceFile
from .yamlmarks import Path_

SECTIONS = {
    "calendars": "calendar",
    "batch_users": "batch user",
    "agents": "agent",
    "schedules": "schedule",
    "notifications": "notification",
}


@dataclass(frozen=True)
class Entry:
    """One mapping of a definition file (an agent, a job...), with where it stands."""

    source: SourceFile
    path: Path_
    data: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.data.get("name", ""))

    def at(self, *sub: Any, key: bool = False) -> Location:
        """Location of this entry, or of a node below it."""
        return self.source.location(self.path + sub, key=key)

    def child(self, *sub: Any) -> Entry:
        """The mapping below this entry at ``sub`` (empty if absent)."""
        node: Any = self.data
        for part in sub:
            node = node.get(part, {}) if isinstance(node, dict) else {}
        return Entry(self.source, self.path + sub, node if isinstance(node, dict) else {})

    def items(self, section: str) -> list[Entry]:
        """The mappings of the list ``section`` below this entry."""
        return [
            Entry(self.source, self.path + (section, i), item)
            for i, item in enumerate(listed(self.data.get(section)))
            if isinstance(item, dict)
        ]


def unique(entries: list[Entry], kind: str, collector: Collector) -> dict[str, Entry]:
    """Entries by name; a name defined twice is an error at its second definition."""
    named: dict[str, Entry] = {}
    for entry in entries:
        first = named.setdefault(entry.name, entry)
        if first is not entry:
            message = f"duplicate {kind} '{entry.name}' (first defined at {first.at()})"
            collector.error(entry.at("name"), message, "duplicate-name")
    return named


@dataclass
class Index:
    """Every named thing of a set of files (a root and its includes), by section and name."""

    files: list[SourceFile]
    sections: dict[str, dict[str, Entry]]
    properties: dict[str, tuple[str, Location]]

    @classmethod
    def of(cls, files: list[SourceFile], collector: Collector) -> Index:
        """Index ``files``, reporting duplicate names and conflicting properties."""
        tops = [Entry(source, (), source.data) for source in files]
        sections = {
            section: unique([item for top in tops for item in top.items(section)], kind, collector)
            for section, kind in SECTIONS.items()
        }
        return cls(files, sections, _properties(tops, collector))


def _properties(tops: list[Entry], collector: Collector) -> dict[str, tuple[str, Location]]:
    found: dict[str, tuple[str, Location]] = {}
    for top in tops:
        for name, value in mapped(top.data.get("properties")).items():
            if value is INVALID:  # still a known name: its uses are not "unknown property"
                found.setdefault(name, ("", top.at("properties", name, key=True)))
                continue
            text, location = as_text(value), top.at("properties", name, key=True)
            first = found.setdefault(name, (text, location))
            if first[0] != text:
                message = (
                    f"property '{name}' defined twice with different values (first at {first[1]})"
                )
                collector.error(location, message, "duplicate-name")
    return found


def as_text(value: Any) -> str:
    """A YAML scalar as the text AMT receives.

    A plain scalar in a text field is already its text as written (see ``textfields``); only a
    tagged value (``!!int 7``, ``!!bool true``) arrives here as a number or a boolean.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
