"""Read YAML safely and remember where every value came from.

PyYAML's safe composer builds a node graph with line marks; we turn it into plain
Python values ourselves so that (a) every document path maps to its file:line:col,
(b) duplicate keys are an error instead of a silent overwrite, (c) numbers with a
fraction become ``Decimal`` straight from their text (never float), and (d) alias
bombs, deep nesting and huge files are refused within bounded time and memory.
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

from ..errors import Code, PolicyError, PolicyErrors, SourceLocation
from ..i18n import N_, _

MAX_FILE_BYTES = 512 * 1024  # the largest shipped file is 22 KB; PyYAML reads about 0.5 MB a second
MAX_NODES = 200_000
MAX_DEPTH = 64
MAX_ALIASES = 100

_INT_RE = re.compile(r"^[-+]?(0|[1-9][0-9_]*)$")


class Document:
    """A loaded YAML document: its plain value and the location of every path in it."""

    def __init__(self, file: str, text: str, data, marks: dict[tuple, tuple[int, int]]):
        self.file = file
        self.text = text
        self.data = data
        self._marks = marks

    def location(self, path) -> SourceLocation:
        """Best location for ``path``: the deepest ancestor that has a mark."""
        path = tuple(path)
        probe = path
        while probe not in self._marks and probe:
            probe = probe[:-1]
        line, col = self._marks.get(probe, (0, 0))
        return SourceLocation(self.file, line, col, path)


def _err(file: str, node, code: str, message: str, path=(), hint: str = "") -> PolicyError:
    mark = getattr(node, "start_mark", None)
    line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
    return PolicyError(code, message, SourceLocation(file, line, col, tuple(path)), hint)


class _Builder:
    def __init__(self, file: str):
        self.file = file
        self.marks: dict[tuple, tuple[int, int]] = {}
        self.nodes = 0
        self.errors: list[PolicyError] = []
        self._seen_aliases: set[int] = set()

    def build(self, node, path: tuple, depth: int):
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _TooBig(_err(self.file, node, Code.POLICY_YAML_ERROR,
                               f"document expands to more than {MAX_NODES} values",
                               path, "remove YAML aliases that repeat large blocks; split the file"))
        if depth > MAX_DEPTH:
            mark = node.start_mark
            raise _TooBig(_too_deep(self.file, mark.line + 1, mark.column + 1, path))
        self.marks.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and \
                node.tag not in ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"):
            self.errors.append(_err(self.file, node, Code.POLICY_YAML_ERROR, f"unsupported YAML tag {node.tag}", path,
                                    "remove the explicit tag; policies hold plain data only"))
            return None
        if isinstance(node, yaml.MappingNode):
            out: dict = {}
            merged: dict = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    # "<<: *anchor" (or a list of anchors): explicit keys of this mapping win
                    sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                    for source in sources:
                        if not isinstance(source, yaml.MappingNode):
                            self.errors.append(_err(self.file, value_node, Code.POLICY_YAML_ERROR,
                                                    "'<<' must merge a mapping", path))
                            continue
                        for k, v in self.build(source, path, depth + 1).items():
                            merged.setdefault(k, v)
                    continue
                key = self._scalar(key_node, path)
                if not isinstance(key, (str, int)) or isinstance(key, bool):
                    self.errors.append(_err(self.file, key_node, Code.POLICY_YAML_ERROR,
                                            f"mapping key {key!r} must be text", path, "quote the key"))
                    continue
                key = str(key)
                if key in out:
                    self.errors.append(_err(self.file, key_node, Code.POLICY_YAML_ERROR,
                                            f"duplicate key '{key}'", path + (key,),
                                            "each key may appear once in a mapping; remove or merge the repeat"))
                    continue
                self.marks[path + (key,)] = (value_node.start_mark.line + 1, value_node.start_mark.column + 1)
                out[key] = self.build(value_node, path + (key,), depth + 1)
            for k, v in merged.items():
                out.setdefault(k, v)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (i,), depth + 1) for i, item in enumerate(node.value)]
        return self._scalar(node, path)

    def _scalar(self, node, path):
        if not isinstance(node, yaml.ScalarNode):
            raise _TooBig(_err(self.file, node, Code.POLICY_YAML_ERROR, "a mapping key must be a plain value", path))
        tag, value = node.tag, node.value
        if tag == "tag:yaml.org,2002:str":
            return value
        if tag == "tag:yaml.org,2002:null":
            return None
        if tag == "tag:yaml.org,2002:bool":
            return value.lower() in ("true", "yes", "on")
        if tag == "tag:yaml.org,2002:int":
            if _INT_RE.match(value):
                return int(value.replace("_", ""))
            return value  # octal/hex/sexagesimal forms are kept as text; the schema rejects them
        if tag == "tag:yaml.org,2002:float":
            try:
                number = Decimal(value.replace("_", ""))
            except InvalidOperation:
                number = None
            if number is None or not number.is_finite():
                self.errors.append(_err(self.file, node, Code.POLICY_YAML_ERROR,
                                        f"'{value}' is not a finite decimal number", path,
                                        "write amounts like 1500.00"))
                return value
            return number
        if tag == "tag:yaml.org,2002:timestamp":
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                self.errors.append(_err(self.file, node, Code.POLICY_YAML_ERROR,
                                        f"'{value}' is not a date", path, "write dates as YYYY-MM-DD"))
                return value
        self.errors.append(_err(self.file, node, Code.POLICY_YAML_ERROR, f"unsupported YAML tag {tag}", path,
                                "remove the explicit tag"))
        return value


def _too_deep(file: str, line: int, column: int, path=()) -> PolicyError:
    return PolicyError(Code.POLICY_YAML_ERROR, _("nesting deeper than {n} levels", n=MAX_DEPTH),
                       SourceLocation(file, line, column, tuple(path)),
                       _("flatten the structure: a policy needs a few levels, not hundreds"))


class _TooBig(Exception):
    def __init__(self, error: PolicyError):
        self.error = error


class _TooDeep(Exception):
    def __init__(self, mark):
        self.mark = mark


class _CountingLoader(yaml.SafeLoader):
    """SafeLoader that refuses documents with too many aliases before they are expanded, and nesting
    deeper than MAX_DEPTH before PyYAML's recursive composer runs out of Python stack (a
    RecursionError at about 330 levels)."""

    _depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self._alias_count = getattr(self, "_alias_count", 0) + 1
            if self._alias_count > MAX_ALIASES:
                event = self.peek_event()
                raise yaml.YAMLError(f"more than {MAX_ALIASES} aliases at line {event.start_mark.line + 1}")
        if self._depth >= MAX_DEPTH:
            raise _TooDeep(self.peek_event().start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


# What PyYAML's parser says, in an officer's words: (start of the parser's message, explanation, hint).
_YAML_PROBLEMS = (
    ("mapping values are not allowed", N_("a ':' where it cannot stand"),
     N_("put a space after the colon of a key, and quotes around a text that contains ': '")),
    ("could not find expected ':'", N_("a line that should be 'key: value' has no ':'"),
     N_("add the colon after the key, or join the line to the one above")),
    ("found character '\\t'", N_("a tab character"), N_("indent with spaces, never with tabs")),
    ("found character", N_("a character that cannot start a value here"), N_("put the value between quotes")),
    ("did not find expected key", N_("the indentation does not match the lines above"),
     N_("align this key with the other keys of the same block")),
    ("expected <block end>", N_("the indentation does not match the lines above"),
     N_("align this line with the other lines of the same block")),
    ("did not find expected '-' indicator", N_("a list item that does not start with '- '"),
     N_("align the items of the list, each starting with '- '")),
    ("found unexpected end of stream", N_("the file ends inside a quoted text"),
     N_("close the quotes that were opened")),
    ("found unknown escape character", N_("a backslash that YAML reads as a special character"),
     N_("use single quotes around the text, or write \\\\")),
    ("found undefined alias", N_("a reference (*name) to an anchor that is not defined"),
     N_("define the anchor (&name) first, or remove the reference")),
    ("expected ',' or '}'", N_("a {...} block that is not closed, or a missing comma"),
     N_("close the brace, or separate the items with commas")),
    ("expected ',' or ']'", N_("a [...] list that is not closed, or a missing comma"),
     N_("close the bracket, or separate the items with commas")),
    ("found duplicate anchor", N_("the same anchor (&name) is defined twice"), N_("rename one of the anchors")),
    ("special characters are not allowed", N_("a control character in the text"),
     N_("remove it, or save the file as plain UTF-8 text")),
)


def yaml_problem(problem: str, context: str = "") -> tuple[str, str]:
    """(message, hint) for a YAML parser problem; the parser's own words are kept in parentheses."""
    for start, message, hint in _YAML_PROBLEMS:
        if problem.startswith(start) or (start.startswith("expected") and start in problem):
            return _("YAML: {what} ({detail})", what=_(message), detail=problem), _(hint)
    return _("YAML: {what}", what=problem), _("check indentation, colons and quotes around this line")


def _too_large(file: str) -> PolicyError:
    return PolicyError(Code.POLICY_YAML_ERROR, _("file is larger than {n} bytes", n=MAX_FILE_BYTES),
                       SourceLocation(file), _("split the policy or remove generated content"))


def load_text(text: str, file: str) -> Document:
    """Parse one YAML document from text; raise ``PolicyErrors`` with file:line on any problem."""
    if len(text.encode("utf-8", "replace")) > MAX_FILE_BYTES:
        raise PolicyErrors([_too_large(file)])
    loader = _CountingLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        message, hint = yaml_problem(exc.problem or str(exc), exc.context or "")
        raise PolicyErrors([PolicyError(Code.POLICY_YAML_ERROR, message, SourceLocation(file, line, col), hint)]) from None
    except yaml.YAMLError as exc:
        raise PolicyErrors([PolicyError(Code.POLICY_YAML_ERROR, str(exc), SourceLocation(file),
                                        "remove YAML aliases (*name) that repeat content")]) from None
    except _TooDeep as exc:
        raise PolicyErrors([_too_deep(file, exc.mark.line + 1, exc.mark.column + 1)]) from None
    finally:
        loader.dispose()
    if node is None:
        raise PolicyErrors([PolicyError(Code.POLICY_YAML_ERROR, "the file is empty", SourceLocation(file, 1, 1))])
    builder = _Builder(file)
    try:
        data = builder.build(node, (), 0)
    except _TooBig as exc:
        raise PolicyErrors([exc.error]) from None
    if builder.errors:
        raise PolicyErrors(builder.errors)
    return Document(file, text, data, builder.marks)


def load_file(path: str | Path) -> Document:
    """Read and parse a YAML file (UTF-8)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise PolicyErrors([_too_large(str(path))])
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise PolicyErrors([PolicyError(Code.POLICY_YAML_ERROR, "file is not UTF-8 text", SourceLocation(str(path)),
                                        "save the file as UTF-8")]) from None
    except OSError as exc:
        raise PolicyErrors([PolicyError(Code.POLICY_IO_ERROR, exc.strerror or str(exc), SourceLocation(str(path)))]) from None
    return load_text(text, str(path))
