"""A safe YAML loader that remembers the file, line and column of every mapping, key and item.

Only a :class:`yaml.SafeLoader` subclass composes the text; our own walk turns the node graph
into plain JSON-like values (dict, list, str, int, float, bool, None) while recording positions,
refusing duplicate keys, non-string keys and custom tags, and bounding alias expansion ("billion
laughs"), nesting depth and the number of documents. Dates stay text (JSON-compatible).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.config import codes

PathKey = tuple[str | int, ...]
MAX_DOCUMENTS = 200
MAX_ALIAS_NODES = 10_000
MAX_NODES = 200_000
MAX_DEPTH = 50

_TAG = "tag:yaml.org,2002:"
SCALAR_TAGS = {f"{_TAG}{t}" for t in ("null", "bool", "int", "float", "str", "timestamp")}
MERGE_TAG = f"{_TAG}merge"
MAP_TAG = f"{_TAG}map"
SEQ_TAG = f"{_TAG}seq"


@dataclass(frozen=True, order=True)
class Mark:
    """A 1-based position in a file."""

    line: int
    column: int


def node_mark(node: Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


@dataclass
class YamlDocument:
    """One YAML document: its plain value and where every part of it is."""

    file: str
    index: int
    data: object
    start: Mark
    values: dict[PathKey, Mark] = field(default_factory=dict)
    keys: dict[PathKey, Mark] = field(default_factory=dict)

    def at(self, path: Sequence[str | int]) -> Mark:
        """Where the value at ``path`` starts; the nearest enclosing node when it is absent."""
        key = tuple(path)
        while key:
            if key in self.values:
                return self.values[key]
            key = key[:-1]
        return self.values.get((), self.start)

    def key_at(self, path: Sequence[str | int]) -> Mark:
        """Where the mapping key ending ``path`` is (falls back to :meth:`at`)."""
        return self.keys.get(tuple(path)) or self.at(path)


class YamlIssue(Exception):
    """A located problem found while reading YAML (internal: becomes a ``Problem``)."""

    def __init__(self, code: str, message: str, mark: Mark, hint: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.mark = mark
        self.hint = hint


class AliasNode(Node):
    """An alias (``*name``) where it is used: the anchored node plus the position of the alias."""

    id = "alias"

    def __init__(self, target: Node, start_mark: Any, end_mark: Any) -> None:
        super().__init__(target.tag, target.value, start_mark, end_mark)
        self.target = target


def _word_key(node: Node) -> bool:
    """A plain key that YAML 1.1 alone reads as a boolean (on, off, yes, no)."""
    return (
        isinstance(node, ScalarNode)
        and not node.style  # plain (libyaml says "", the Python parser None)
        and node.tag == f"{_TAG}bool"
        and str(node.value).lower() in ("on", "off", "yes", "no", "y", "n")
    )


def _resolve(node: Node) -> Node:
    return node.target if isinstance(node, AliasNode) else node


try:  # libyaml's event parser; the pure Python one otherwise
    _C_PARSER: Any = getattr(importlib.import_module("yaml._yaml"), "CParser", None)
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    _C_PARSER = None


class LocatingLoader(yaml.SafeLoader):
    """SafeLoader that marks where aliases are used; timestamps stay text (JSON values).

    When libyaml is available its parser produces the events (40 times faster than the pure
    Python one on large files); composing and constructing stay in this safe Python class.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._fast: Any = _C_PARSER(stream) if _C_PARSER is not None else None

    def check_event(self, *choices: Any) -> bool:
        if self._fast is None:
            return super().check_event(*choices)
        return bool(self._fast.check_event(*choices))

    def peek_event(self) -> Any:
        if self._fast is None:
            return super().peek_event()  # type: ignore[no-untyped-call]
        return self._fast.peek_event()

    def get_event(self) -> Any:
        if self._fast is None:
            return super().get_event()  # type: ignore[no-untyped-call]
        return self._fast.get_event()

    def dispose(self) -> None:
        if self._fast is not None:
            self._fast.dispose()
        super().dispose()

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if not self.check_event(yaml.AliasEvent):
            return super().compose_node(parent, index)
        event = self.peek_event()
        target = super().compose_node(parent, index)
        return None if target is None else AliasNode(target, event.start_mark, event.end_mark)


def _timestamp_as_text(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    return loader.construct_scalar(node)  # type: ignore[arg-type]


LocatingLoader.add_constructor(f"{_TAG}timestamp", _timestamp_as_text)


class _Walker:
    """Turns one composed document into plain values, recording positions and issues."""

    def __init__(self, loader: LocatingLoader) -> None:
        self.loader = loader
        self.values: dict[PathKey, Mark] = {}
        self.keys: dict[PathKey, Mark] = {}
        self.issues: list[YamlIssue] = []
        self.active: set[int] = set()
        self.alias_use = Mark(1, 1)
        self.nodes = 0
        self.alias_nodes = 0

    def build(self, node: Node, path: PathKey, via_alias: bool = False) -> object:
        self.values[path] = node_mark(node)
        if isinstance(node, AliasNode):
            if not via_alias:
                self.alias_use = node_mark(node)
            node, via_alias = node.target, True
        self._count(node, path, via_alias)
        if isinstance(node, ScalarNode):
            return self._scalar(node)
        if id(node) in self.active:
            raise YamlIssue(
                codes.UNSUPPORTED_YAML, "recursive alias: a node contains itself", node_mark(node)
            )
        self.active.add(id(node))
        try:
            if isinstance(node, MappingNode):
                return self._mapping(node, path, via_alias)
            if isinstance(node, SequenceNode):
                return self._sequence(node, path, via_alias)
        finally:
            self.active.discard(id(node))
        raise YamlIssue(codes.UNSUPPORTED_YAML, "unsupported YAML node", node_mark(node))

    def _count(self, node: Node, path: PathKey, via_alias: bool) -> None:
        self.nodes += 1
        self.alias_nodes += via_alias
        if self.alias_nodes > MAX_ALIAS_NODES:
            raise YamlIssue(
                codes.TOO_LARGE,
                f"aliases expand to more than {MAX_ALIAS_NODES} values",
                self.alias_use,
                "use fewer or smaller anchors/aliases (`&name` / `*name`)",
            )
        if self.nodes > MAX_NODES:
            raise YamlIssue(codes.TOO_LARGE, f"more than {MAX_NODES} values", node_mark(node))
        if len(path) > MAX_DEPTH:
            raise YamlIssue(
                codes.TOO_LARGE, f"nesting is deeper than {MAX_DEPTH} levels", node_mark(node)
            )

    def _scalar(self, node: ScalarNode) -> object:
        if node.tag not in SCALAR_TAGS:
            raise YamlIssue(
                codes.UNSUPPORTED_YAML,
                f"unsupported YAML tag {_short_tag(node.tag)}",
                node_mark(node),
                "remove the tag: only plain strings, numbers, booleans, null and dates are used",
            )
        constructor = LocatingLoader.yaml_constructors[node.tag]
        try:
            return constructor(self.loader, node)
        except (ValueError, TypeError, KeyError, OverflowError, yaml.YAMLError) as exc:
            raise YamlIssue(
                codes.UNSUPPORTED_YAML,
                f"cannot read the value as {_short_tag(node.tag)}",
                node_mark(node),
            ) from exc

    def _sequence(self, node: SequenceNode, path: PathKey, via_alias: bool) -> list[object]:
        self._require_tag(node, SEQ_TAG)
        return [self.build(item, (*path, i), via_alias) for i, item in enumerate(node.value)]

    def _mapping(self, node: MappingNode, path: PathKey, via_alias: bool) -> dict[str, object]:
        self._require_tag(node, MAP_TAG)
        result: dict[str, object] = {}
        merges: list[Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                merges.append(value_node)
                continue
            key = self._key(key_node, path)
            if key is None:
                continue
            if key in result:
                first = self.keys[(*path, key)]
                self.issues.append(
                    YamlIssue(
                        codes.DUPLICATE_KEY,
                        f"duplicate key `{key}` (first at line {first.line})",
                        node_mark(key_node),
                        "remove one of them: YAML would silently keep only the last",
                    )
                )
                continue
            self.keys[(*path, key)] = node_mark(key_node)
            result[key] = self.build(value_node, (*path, key), via_alias)
        for merge in merges:
            self._merge(merge, path, result, via_alias)
        return result

    def _key(self, key_node: Node, path: PathKey) -> str | None:
        key_node = _resolve(key_node)
        if _word_key(key_node):
            return str(key_node.value)  # as YAML 1.2 reads it: `on:` of a Notification
        value = self._scalar(key_node) if isinstance(key_node, ScalarNode) else None
        if isinstance(value, str):
            return value
        self.issues.append(
            YamlIssue(
                codes.UNSUPPORTED_YAML,
                "mapping keys must be text",
                node_mark(key_node),
                "quote the key (YAML reads yes/no/on/off as booleans and 1 as a number)",
            )
        )
        return None

    def _merge(self, node: Node, path: PathKey, into: dict[str, object], via_alias: bool) -> None:
        node = _resolve(node)
        sources = node.value if isinstance(node, SequenceNode) else [node]
        for source in map(_resolve, sources):
            if not isinstance(source, MappingNode) or id(source) in self.active:
                raise YamlIssue(
                    codes.UNSUPPORTED_YAML,
                    "`<<` merges only other mappings (not itself, not a list or value)",
                    node_mark(source),
                )
            values, keys = self.values, self.keys
            self.values, self.keys = {}, {}
            try:
                self._count(source, path, True)
                merged = self._mapping(source, path, via_alias=True)
            finally:
                new_values, new_keys = self.values, self.keys
                self.values, self.keys = values, keys
            for key, value in merged.items():
                if key not in into:
                    into[key] = value
                    self._adopt(new_values, self.values, (*path, key))
                    self._adopt(new_keys, self.keys, (*path, key))

    @staticmethod
    def _adopt(source: dict[PathKey, Mark], target: dict[PathKey, Mark], prefix: PathKey) -> None:
        size = len(prefix)
        target.update({p: m for p, m in source.items() if p[:size] == prefix})

    @staticmethod
    def _require_tag(node: Node, tag: str) -> None:
        if node.tag != tag:
            raise YamlIssue(
                codes.UNSUPPORTED_YAML,
                f"unsupported YAML tag {_short_tag(node.tag)}",
                node_mark(node),
                "remove the tag",
            )


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_TAG) :] if tag.startswith(_TAG) else tag


def _documents(loader: LocatingLoader) -> Iterator[Node]:
    while loader.check_node():
        node = loader.get_node()
        if node is not None:
            yield node


def parse_documents(text: str, file: str) -> tuple[list[YamlDocument], list[YamlIssue]]:
    """Every non-empty document of ``text``, and the issues found; never raises."""
    documents: list[YamlDocument] = []
    issues: list[YamlIssue] = []
    loader: LocatingLoader | None = None
    try:
        loader = LocatingLoader(text)
        for index, node in enumerate(_documents(loader)):
            if index >= MAX_DOCUMENTS:
                raise YamlIssue(
                    codes.TOO_LARGE,
                    f"more than {MAX_DOCUMENTS} documents in one file",
                    node_mark(node),
                    "split the file",
                )
            document = _build_document(loader, node, file, index, issues)
            if document is not None:
                documents.append(document)
    except YamlIssue as issue:
        issues.append(issue)
    except yaml.YAMLError as exc:
        issues.append(_syntax_issue(exc, text))
    except RecursionError:
        issues.append(
            YamlIssue(codes.TOO_LARGE, f"nesting is deeper than {MAX_DEPTH} levels", Mark(1, 1))
        )
    finally:
        if loader is not None:
            loader.dispose()
    return documents, issues


def _build_document(
    loader: LocatingLoader, node: Node, file: str, index: int, issues: list[YamlIssue]
) -> YamlDocument | None:
    if isinstance(node, ScalarNode) and node.tag == f"{_TAG}null" and not node.value:
        return None  # an empty document, e.g. after a trailing `---`
    walker = _Walker(loader)
    try:
        data = walker.build(node, ())
    except YamlIssue as issue:  # this document is unusable; the next ones may be fine
        issues.extend([*walker.issues, issue])
        return None
    issues.extend(walker.issues)
    return YamlDocument(file, index, data, node_mark(node), walker.values, walker.keys)


def _syntax_issue(exc: yaml.YAMLError, text: str) -> YamlIssue:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        where = Mark(mark.line + 1, mark.column + 1) if mark is not None else Mark(1, 1)
        parts = [p for p in (exc.context, exc.problem) if p]
        message = "; ".join(parts) or "invalid YAML"
        return YamlIssue(codes.YAML_SYNTAX, message, where, _syntax_hint(message))
    if isinstance(exc, yaml.reader.ReaderError):
        position = max(0, min(exc.position, len(text)))
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        return YamlIssue(
            codes.ENCODING,
            f"control character #x{exc.character:04x} is not allowed in YAML"
            if isinstance(exc.character, int)
            else "unreadable character",
            Mark(line, column),
            "remove the character (files must be plain UTF-8 text)",
        )
    return YamlIssue(codes.YAML_SYNTAX, "invalid YAML", Mark(1, 1))


def _syntax_hint(message: str) -> str:
    if "\\t" in message or "tab" in message:
        return "indent with spaces, not tabs"
    if "mapping values are not allowed" in message:
        return "quote values that contain ': ' or fix the indentation"
    if "undefined alias" in message:
        return "define the anchor (`&name`) before using the alias (`*name`)"
    return "check indentation, quotes and brackets around this position"
