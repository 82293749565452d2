"""What a name of a schedule, job, agent, calendar or batch user may be.

Names end up in file names (job logs), terminal lines and the state journal, and people review
them in diffs, so a name must be visible, unambiguous and safe as a file name everywhere:
letters (one script: no Cyrillic 'а' among Latin letters), digits, spaces inside, and
punctuation other than ``/ \\ : * ? " < > |``; not a Windows device name; at most 100 characters.
"""

from __future__ import annotations

import unicodedata

from amtflow.filenames import WINDOWS_DEVICES

MAX_NAME_LENGTH = 100
_PATH_CHARACTERS = frozenset('/\\:*?"<>|')
_INVISIBLE = frozenset(("Cc", "Cf", "Cn", "Co", "Cs", "Zl", "Zp"))
_LOOKALIKE_SCRIPTS = frozenset(("LATIN", "CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE", "COPTIC"))


def name_problem(name: str) -> str | None:
    """Why ``name`` is not a usable name (a phrase after the name), or None if it is."""
    if len(name) > MAX_NAME_LENGTH:
        return f"is too long ({len(name)} characters; at most {MAX_NAME_LENGTH})"
    plain = name.isascii() and name.isprintable()  # nothing invisible, compatible or mixed
    for check in _PLAIN_CHECKS if plain else _CHECKS:
        problem = check(name)
        if problem:
            return problem
    return None


def shown(name: str, limit: int = 60) -> str:
    """``name`` quoted for a message: invisible characters as ``\\uXXXX``, long names cut."""
    cut = name if len(name) <= limit else name[:limit] + "..."
    return "'" + "".join(_visible(ch) for ch in cut) + "'"


def lookalike_note(word: str, other: str) -> str:
    """`` ('x' holds U+0430 CYRILLIC SMALL LETTER A)`` when ``word`` and ``other`` look alike."""
    odd = [ch for ch, theirs in zip(word, other, strict=False) if ch != theirs and not ch.isascii()]
    if len(word) != len(other) or not odd:
        return ""
    return f" ({shown(word)} holds {_describe(odd[0])})"


def _invisible(name: str) -> str | None:
    for ch in name:
        if unicodedata.category(ch) in _INVISIBLE or (ch.isspace() and ch != " "):
            return f"holds an invisible or control character ({_describe(ch)})"
    return None


def _path_character(name: str) -> str | None:
    found = sorted(set(name) & _PATH_CHARACTERS)
    if found:
        return f"holds '{found[0]}': a name must not hold any of / \\ : * ? \" < > |"
    return None


def _edges(name: str) -> str | None:
    if name != name.strip(" "):
        return "starts or ends with a space"
    if not name.strip("."):
        return "is only dots"
    return None


def _device(name: str) -> str | None:
    if name.split(".", 1)[0].rstrip(" ").upper() in WINDOWS_DEVICES:
        return "is a reserved device name on Windows (CON, PRN, AUX, NUL, COM1-9, LPT1-9)"
    return None


def _compatibility(name: str) -> str | None:
    normal = unicodedata.normalize("NFKC", name)
    if normal != name:
        return f"holds lookalike compatibility characters (fullwidth, ligatures...): write {shown(normal)}"
    return None


def _mixed_scripts(name: str) -> str | None:
    scripts: dict[str, str] = {}
    for ch in name:
        script = _script(ch)
        if script in _LOOKALIKE_SCRIPTS:
            scripts.setdefault(script, ch)
    if len(scripts) < 2:
        return None
    odd = next(ch for script, ch in scripts.items() if script != "LATIN")
    mixed = " and ".join(script.title() for script in scripts)
    return f"mixes {mixed} letters, which look alike ({_describe(odd)})"


def _script(ch: str) -> str:
    return unicodedata.name(ch, "").split(" ", 1)[0] if ch.isalpha() else ""


def _describe(ch: str) -> str:
    fallback = "a control character" if unicodedata.category(ch) == "Cc" else "unnamed"
    return f"U+{ord(ch):04X} {unicodedata.name(ch, fallback)}"


_CHECKS = (_invisible, _path_character, _edges, _device, _compatibility, _mixed_scripts)
_PLAIN_CHECKS = (_path_character, _edges, _device)  # printable ASCII: the others find nothing


def _visible(ch: str) -> str:
    if ch.isprintable() and unicodedata.category(ch) not in _INVISIBLE:
        return ch
    return f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}"
