"""YAML that remembers where each value came from.

Policy authors need "rules.yaml:14: ..." rather than "row_filters.2.where: ...",
so every load returns the data together with a map from YAML path to line.
Duplicate keys are an error: PyYAML silently keeps the last one, which would
let a policy quietly drop a rule. ``validated`` reads a policy file into its
pydantic model, every problem reported as ``file:line: path: message``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

YamlPath = tuple[str | int, ...]
Where = Callable[[tuple], str]  # YAML path -> "rules.yaml:12"


class YamlSource:
    """Parsed YAML data plus the line of every mapping key and sequence item."""

    def __init__(self, path: Path, data: Any, lines: dict[YamlPath, int]):
        self.path = path
        self.data = data
        self.lines = lines

    def where(self, loc: YamlPath) -> str:
        """``file:line`` for the longest prefix of ``loc`` that has a line."""
        loc = tuple(loc)
        while loc and loc not in self.lines:
            loc = loc[:-1]
        line = self.lines.get(loc, 1)
        return f"{self.path.name}:{line}"


class YamlProblem(Exception):
    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


def read_text(path: Path) -> str:
    """A policy file's text; YamlProblem('file:line: ...') when it is not UTF-8 (never a bare UnicodeDecodeError)."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise YamlProblem(f"{path.name}:{line}: not valid UTF-8 (byte {data[err.start]:#04x}); save the file as UTF-8") from None


class PolicyYamlLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans: only true / false.

    YAML 1.1 also reads yes/no/on/off/y/n as booleans, so `region: NO` (Norway)
    would silently become False and a row filter `region = :principal.region`
    would compare against false. Those words stay strings here.
    """


PolicyYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
PolicyYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def load_yaml(path: Path) -> YamlSource:
    """Parse ``path``; raise YamlProblem('file:line: message') on syntax errors or duplicate keys."""
    text = read_text(path)
    try:
        root = yaml.compose(text, Loader=PolicyYamlLoader)
        data = yaml.load(text, Loader=PolicyYamlLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(err, "problem", None) or str(err)
        start = getattr(err, "context_mark", None)
        if start is not None and "quoted scalar" in (getattr(err, "context", None) or ""):
            # PyYAML reports where the file ended; the author needs the line the quote opened on.
            raise YamlProblem(f"{path.name}:{start.line + 1}: YAML syntax error: unterminated quote: the string opened "
                              f"at line {start.line + 1}, column {start.column + 1} is never closed ({problem})") from None
        opened = unclosed_quote(text, line)
        if opened is not None:  # a quoted value may span lines in YAML: the error shows up lines later
            raise YamlProblem(f"{path.name}:{opened[0]}: YAML syntax error: unterminated quote: the {opened[2]} string opened "
                              f"at line {opened[0]}, column {opened[1]} is not closed on its line (then: {problem} at line {line})") from None
        raise YamlProblem(f"{path.name}:{line}: YAML syntax error: {problem}") from None
    lines: dict[YamlPath, int] = {}
    if root is not None:
        _index(root, (), lines, path, ())
    return YamlSource(path, data, lines)


_VALUE_QUOTE = re.compile(r"""(?:^\s*(?:-\s+)?|:\s+|[\[{,]\s*)(["'])""")


def unclosed_quote(text: str, up_to_line: int) -> tuple[int, int, str] | None:
    """(line, column, 'double-quoted'|'single-quoted') of the first value on lines 1..``up_to_line``
    whose opening quote is not closed on the same line; None when every quote closes."""
    for lineno, raw in enumerate(text.splitlines()[:up_to_line], start=1):
        pos = 0
        while True:
            match = _VALUE_QUOTE.search(raw, pos)
            if match is None or raw.lstrip().startswith("#"):
                break
            quote, i = match.group(1), match.end()
            while i < len(raw):
                if quote == '"' and raw[i] == "\\":
                    i += 2
                    continue
                if raw[i] == quote:
                    if quote == "'" and raw[i + 1:i + 2] == "'":
                        i += 2
                        continue
                    break
                i += 1
            if i >= len(raw):
                return lineno, match.start(1) + 1, "double-quoted" if quote == '"' else "single-quoted"
            pos = i + 1
    return None


def _index(node: yaml.Node, at: YamlPath, lines: dict[YamlPath, int], path: Path, open_nodes: tuple[int, ...]) -> None:
    # An alias may point at a node that contains it (`&a {x: *a}`): the data would be
    # infinitely deep, and validating it would recurse until Python gives up.
    if id(node) in open_nodes:
        raise YamlProblem(f"{path.name}:{node.start_mark.line + 1}: recursive YAML alias (a node that contains itself)")
    open_nodes += (id(node),)
    lines.setdefault(at, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                raise YamlProblem(f"{path.name}:{key_node.start_mark.line + 1}: duplicate key {key!r}")
            seen.add(key)
            lines[at + (key,)] = key_node.start_mark.line + 1
            _index(value_node, at + (key,), lines, path, open_nodes)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[at + (i,)] = item.start_mark.line + 1
            _index(item, at + (i,), lines, path, open_nodes)


def validated(path: Path, model: type[BaseModel], problems: list[str]) -> tuple[Any, YamlSource | None]:
    """(validated model, its YAML source), or (None, ...) with the problems recorded."""
    try:
        source = load_yaml(path)
    except YamlProblem as err:
        problems.append(err.message)
        return None, None
    if not isinstance(source.data, dict):
        problems.append(f"{path.name}:1: expected a mapping at the top level")
        return None, source
    try:
        return model.model_validate(source.data), source
    except ValidationError as err:
        problems.extend(_explain(source, err))
        return None, source


def _explain(source: YamlSource, err: ValidationError) -> list[str]:
    out = []
    for e in err.errors():
        loc = tuple(e["loc"])
        path = ".".join(str(p) for p in loc) or "(top level)"
        message = "unknown key" if e["type"] == "extra_forbidden" else e["msg"]
        out.append(f"{source.where(loc)}: {path}: {message}")
    return out
