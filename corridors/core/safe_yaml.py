r"""Reading YAML from files a user hands us, with limits a hostile file cannot get past.

``yaml.safe_load`` builds no arbitrary objects, but it still expands aliases (a "billion laughs"
bomb of a few hundred bytes becomes gigabytes), recurses once per nesting level (a deep document
ends in a ``RecursionError``), reads a file of any size and lets a duplicate key silently win.
:func:`load_yaml` refuses all of these before building anything:

* a file larger than ``max_bytes`` (read no further than the limit);
* any anchor (``&name``) or alias (``*name``): the catalogs and scenarios never need them, so they
  are refused at the first event, before any expansion;
* nesting deeper than ``max_depth`` (checked while composing, so no recursion error is possible);
* a string scalar longer than ``max_string`` characters (or a per-field limit);
* a key given twice in one mapping.

Each refusal is a :class:`YamlInputError` (an :class:`~corridors.core.diagnostics.InputError`) that
names the file, the line and what is wrong, in one line. Syntax errors are left to the caller as
``yaml.YAMLError``, so each reader keeps its own message for them.

>>> load_yaml("name: x\nyears: [2025, 2030]\n", what="the example")
{'name': 'x', 'years': [2025, 2030]}
>>> load_yaml("a: 1\na: 2\n", what="the example", name="ex.yaml")
Traceback (most recent call last):
...
corridors.core.safe_yaml.YamlInputError: ex.yaml: line 2: duplicate key 'a' (first given at line 1)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from yaml.events import AliasEvent, CollectionStartEvent, NodeEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from corridors.core.diagnostics import InputError, Problem

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_DESCRIPTION",
    "MAX_SCENARIO_BYTES",
    "MAX_STRING",
    "YamlInputError",
    "load_yaml",
]

#: Largest YAML file read (bytes). The biggest shipped file, ``data/catalog/projects.yaml``, is
#: 75 KB, so a catalog may grow more than 60-fold before it meets this limit.
MAX_BYTES = 5_000_000
#: Largest scenario file read (bytes). A scenario is a few delays, drops, speeds and added
#: projects: even a scenario adding all 33 Appendix III projects again would be about 75 KB.
MAX_SCENARIO_BYTES = 1_000_000
#: Deepest nesting of mappings and sequences. The shipped files reach 6 (``speeds.yaml``,
#: ``projects.yaml``); a scenario's added project with waypoints reaches 7.
MAX_DEPTH = 20
#: Longest string scalar (characters). The longest shipped one is 983 characters (a source note
#: in ``projects.yaml``).
MAX_STRING = 10_000
#: Longest scenario description (characters): it is copied into every output of the scenario.
MAX_DESCRIPTION = 2_000


class YamlInputError(InputError):
    """A YAML file refused as unsafe: too big, too deep, aliased, duplicated keys, long strings.

    Attributes
    ----------
    problem : Problem
        The one problem (file, entry ``"-"``, field ``"-"``, message starting with the line).
    """

    def __init__(self, problem: Problem, what: str = "input"):
        super().__init__([problem], what)
        self.problem = problem
        self.args = (f"{problem.file}: {problem.message}",)


class _Refused(Exception):
    """Raised inside the loader; :func:`load_yaml` turns it into a :class:`YamlInputError`."""

    def __init__(self, line: int | None, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


def _line(node_or_event: Node | NodeEvent) -> int | None:
    mark = node_or_event.start_mark
    return mark.line + 1 if mark is not None else None


class _SafeLoader(yaml.SafeLoader):
    """A ``SafeLoader`` that refuses anchors, aliases, deep nesting and duplicate keys."""

    max_depth = MAX_DEPTH

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            raise _Refused(_line(event), f"alias *{event.anchor} refused: aliases and anchors "
                           "are not allowed")
        if isinstance(event, NodeEvent) and event.anchor is not None:
            raise _Refused(_line(event), f"anchor &{event.anchor} refused: aliases and anchors "
                           "are not allowed")
        if not isinstance(event, CollectionStartEvent):
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > self.max_depth:
            raise _Refused(_line(event), f"nested deeper than {self.max_depth} levels")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        first: dict[Any, int | None] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                if key in first:
                    raise _Refused(_line(key_node), f"duplicate key {key!r} (first given at "
                                   f"line {first[key]})")
                first[key] = _line(key_node)
            except TypeError:  # an unhashable key: the base class reports it
                pass
        return super().construct_mapping(node, deep=deep)


def _check_strings(node: Node, limits: Mapping[str, int], max_string: int) -> None:
    """Refuse a string scalar longer than its limit; the field is the dotted path to it."""
    stack: list[tuple[Node, str]] = [(node, "")]
    while stack:
        n, where = stack.pop()
        if isinstance(n, ScalarNode):
            limit = limits.get(where, max_string)
            if len(n.value) > limit:
                field = where or "the document"
                raise _Refused(_line(n), f"field {field!r} is {len(n.value):,} characters long; "
                               f"the limit is {limit:,}")
        elif isinstance(n, SequenceNode):
            stack.extend((item, f"{where}[{i}]") for i, item in enumerate(n.value))
        elif isinstance(n, MappingNode):
            for key, value in n.value:
                stack.append((key, f"{where}.<key>" if where else "<key>"))
                name = key.value if isinstance(key, ScalarNode) else "?"
                stack.append((value, f"{where}.{name}" if where else name))


def load_yaml(source: str | Path, *, what: str, name: str | None = None,
              max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH,
              max_string: int = MAX_STRING,
              string_limits: Mapping[str, int] | None = None) -> Any:
    """Read one YAML document, refusing hostile or absurd input.

    Parameters
    ----------
    source : pathlib.Path or str
        A file (a :class:`~pathlib.Path`), or the YAML text itself (a ``str``).
    what : str
        What the document is, for the error (``"the scenario"``).
    name : str, optional
        The file's name in messages; default the file's name, or ``"<text>"``.
    max_bytes : int
        Largest input, in bytes of UTF-8.
    max_depth : int
        Deepest nesting of mappings and sequences.
    max_string : int
        Longest string scalar, in characters.
    string_limits : mapping, optional
        Tighter (or looser) limits for some fields, by dotted path: ``{"description": 2000}``;
        list items are ``field[0]``.

    Returns
    -------
    Any
        The document, as ``yaml.safe_load`` would build it (``None`` for an empty one).

    Raises
    ------
    FileNotFoundError, OSError
        If the file cannot be read.
    YamlInputError
        If the input is too big, not UTF-8, holds an anchor or alias, is nested too deep, holds a
        duplicate key or too long a string. The message names the file and the line.
    yaml.YAMLError
        If the input is not valid YAML.
    """
    label = name or (source.name if isinstance(source, Path) else "<text>")

    def refuse(message: str) -> YamlInputError:
        return YamlInputError(Problem(label, "-", "-", message), what)

    if isinstance(source, Path):
        with source.open("rb") as fh:
            data = fh.read(max_bytes + 1)
        if len(data) > max_bytes:
            size = max(source.stat().st_size, len(data))
            raise refuse(f"file too large ({size:,} bytes; the limit is {max_bytes:,})")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise refuse(f"not UTF-8 text (byte {exc.start:,})") from None
    else:
        text = source
        size = len(text.encode("utf-8"))
        if size > max_bytes:
            raise refuse(f"text too large ({size:,} bytes; the limit is {max_bytes:,})")

    loader = _SafeLoader(text)
    loader.max_depth = max_depth
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_strings(node, string_limits or {}, max_string)
        return loader.construct_document(node)
    except _Refused as exc:
        where = f"line {exc.line}: " if exc.line is not None else ""
        raise refuse(f"{where}{exc.message}") from None
    finally:
        loader.dispose()
