"""Split a page into front matter and body, the way Hugo does.

Hugo recognises three front matter forms at the very top of a page:

* YAML, between two ``---`` lines;
* TOML, between two ``+++`` lines;
* JSON, a ``{ ... }`` object whose opening brace is the first character of the
  page (leading spaces on line 1 allowed) and which ends where the braces
  balance.

Lines are the pieces of ``text.split("\\n")``; a trailing ``\\r`` is ignored, so
CRLF files give the same line numbers. A byte order mark at the very start is
skipped. Every line number handed back is 1-based in the file, with the opening
delimiter on line 1.

Detection and loading go through python-frontmatter's handlers, subclassed
where Hugo's rules differ: the YAML and TOML boundaries are exactly ``---`` and
``+++`` on the first line, TOML is read with ``tomllib``, a JSON object ends
where its braces balance (not at a line holding ``}``), and YAML is loaded with
a Loader that records where each key is written. What the library cannot do
stays here: line numbers, error messages, key lines for TOML and JSON.

YAML is read with PyYAML's C loader when it is available. When it rejects a
block, the pure Python loader reads it again: errors are rare, and its messages
are the same whether or not libyaml is installed. Key lines come from the node
tree that loading builds anyway, so nothing is parsed twice on the good path.
"""

from __future__ import annotations

import bisect
import json
import re
from functools import lru_cache
from typing import Any

import frontmatter
import yaml
from frontmatter.default_handlers import BaseHandler, JSONHandler, YAMLHandler
from yaml.nodes import MappingNode, Node, ScalarNode

from handbook_lint.yamlvalue import Budget, bad_value, unbounded

from .facts import FrontMatter

__all__ = ["split_front_matter"]

_BOM = "\ufeff"
_YAML_DELIM = "---"
_TOML_DELIM = "+++"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_NOT_A_MAPPING = "front matter is not a mapping"


def split_front_matter(text: str) -> tuple[FrontMatter, int]:
    """Read the front matter at the top of ``text``.

    Returns the front matter and the 0-based index (into ``text.split("\\n")``,
    after dropping a leading BOM) of the first body line: the line after the
    closing delimiter, 0 when the page has no front matter, and the number of
    lines when the block is never closed (the page then has no body).

    Never raises: a block that does not parse is reported in ``error`` and
    ``error_line``, with empty ``data``.
    """
    if text.startswith(_BOM):
        text = text[1:]
    handler = frontmatter.detect_format(text, _HANDLERS)
    if handler is None:
        return FrontMatter(format=None), 0
    assert isinstance(handler, _HugoHandler)
    return handler.read(text)


class _HugoHandler:
    """What our handlers add to python-frontmatter's: reading a page into a
    FrontMatter with lines, errors and key lines."""

    def read(self, text: str) -> tuple[FrontMatter, int]:
        raise NotImplementedError


class _Delimited(_HugoHandler):
    """A block between two delimiter lines: the opening one is line 1."""

    FORMAT = ""
    DELIMITER = ""

    def read(self, text: str) -> tuple[FrontMatter, int]:
        lines = text.split("\n")
        fm = FrontMatter(format=self.FORMAT, start_line=1)
        close = _find_closing(lines, self.DELIMITER)
        if close is None:
            fm.error = (
                f"front matter block opened on line 1 is never closed "
                f"(no closing '{self.DELIMITER}')"
            )
            fm.error_line = 1
            return fm, len(lines)
        fm.end_line = close + 1
        inner = [line.removesuffix("\r") for line in lines[1:close]]
        block = "\n".join(inner) + "\n" if inner else ""
        self.parse(block, fm)
        return fm, close + 1

    def parse(self, block: str, fm: FrontMatter) -> None:
        raise NotImplementedError


class _HugoYAML(_Delimited, YAMLHandler):
    """`---` alone on the first line (trailing blanks allowed; not `----`)."""

    FM_BOUNDARY = re.compile(r"---[^\S\n]*(?:\n|\Z)")
    FORMAT, DELIMITER = "yaml", _YAML_DELIM

    def parse(self, block: str, fm: FrontMatter) -> None:
        _parse_yaml(self, block, fm)


class _HugoTOML(_Delimited, BaseHandler):
    """`+++` alone on the first line; read with tomllib (python-frontmatter's own
    TOML handler needs the old `toml` package)."""

    FM_BOUNDARY = re.compile(r"\+\+\+[^\S\n]*(?:\n|\Z)")
    START_DELIMITER = END_DELIMITER = _TOML_DELIM
    FORMAT, DELIMITER = "toml", _TOML_DELIM

    def load(self, fm: str, **kwargs: object) -> Any:
        import tomllib  # (imported by the first TOML front matter: most sites have none)

        return tomllib.loads(fm)

    def parse(self, block: str, fm: FrontMatter) -> None:
        _parse_toml(self, block, fm)


class _HugoJSON(_HugoHandler, JSONHandler):
    """A `{` opening the page (spaces before it allowed; `{{` is a shortcode):
    the object ends where its braces balance."""

    FM_BOUNDARY = re.compile(r"[ \t]*\{(?!\{)")

    def read(self, text: str) -> tuple[FrontMatter, int]:
        return _json_block(self, text, text.split("\n"))


_HANDLERS = (_HugoYAML(), _HugoTOML(), _HugoJSON())


# -- delimited blocks (YAML, TOML) ---------------------------------------------


def _find_closing(lines: list[str], delim: str) -> int | None:
    for index in range(1, len(lines)):
        line = lines[index]
        if line.startswith(delim) and line.rstrip() == delim:
            return index
    return None


def _line_of(block: str, index: int, fm: FrontMatter) -> int:
    """File line of character ``index`` of a delimited block (which starts on line 2)."""
    index = max(0, min(index, len(block)))
    line = 2 + bisect.bisect_left(_newlines(block), index)
    return max(fm.start_line, min(line, fm.end_line))


@lru_cache(maxsize=4)
def _newlines(block: str) -> list[int]:
    """Where the block's line breaks are: a key's line is a search, not a count
    from the start (60,000 keys counted each from the start took 10 s)."""
    return [m.start() for m in re.finditer("\n", block)]


def _fail(fm: FrontMatter, message: str, line: int) -> None:
    fm.data = {}
    fm.key_lines = {}
    fm.error = message.strip().splitlines()[0] if message.strip() else "invalid front matter"
    fm.error_line = line


# -- YAML ----------------------------------------------------------------------


class _KeyRecorder(yaml.constructor.SafeConstructor):
    """Construction hooks shared by the C and pure Python loaders.

    * Records where each top-level key is written (character offsets).
    * A scalar whose value does not convert (``2024-13-45`` matches the
      timestamp pattern but is no date; ``0x_`` looks like an int) stays the
      string it was written as, which is what Go's YAML libraries do, instead of
      PyYAML's bare ``ValueError``.
    """

    root: Node | None = None
    key_offsets: dict[str, int]
    merge_offset: int | None = None

    def get_single_data(self) -> _YamlResult:
        """What `yaml.load` returns with this Loader: (data, offset of the root
        node, key offsets, merge offset); (None, 0, {}, None) for no document."""
        node = self.get_single_node()  # type: ignore[attr-defined]
        if node is None:
            return None, 0, {}, None
        self.root = node
        self.key_offsets = {}
        data = self.construct_document(node)
        return data, node.start_mark.index, self.key_offsets, self.merge_offset

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, TypeError, OverflowError):
            if not isinstance(node, ScalarNode):
                raise
            self.recursive_objects.pop(node, None)
            value = node.value
            self.constructed_objects[node] = value
            return value

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        if node is not self.root:
            return super().construct_mapping(node, deep=deep)
        own: set[int] = set()
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                if self.merge_offset is None:
                    self.merge_offset = key_node.start_mark.index
            else:
                own.add(id(key_node))
        mapping = super().construct_mapping(node, deep=deep)
        # flatten_mapping has now put the merged pairs in node.value; the keys
        # are already constructed, so this only reads the cache.
        offsets: dict[str, int] = {}
        for key_node, _ in node.value:
            if id(key_node) not in own:
                continue
            key = self.construct_object(key_node)
            offsets[key if isinstance(key, str) else str(key)] = key_node.start_mark.index
        self.key_offsets = offsets
        return mapping


try:
    from yaml import CSafeLoader as _FastBase

    _HAVE_LIBYAML = True
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _FastBase = yaml.SafeLoader  # type: ignore[assignment,misc]
    _HAVE_LIBYAML = False


class _FastLoader(_KeyRecorder, _FastBase):
    pass


class _PyLoader(_KeyRecorder, yaml.SafeLoader):
    pass


_YamlResult = tuple[Any, int, dict[str, int], int | None]


def _load_yaml(
    handler: YAMLHandler, loader_class: type[_FastLoader] | type[_PyLoader], block: str
) -> _YamlResult:
    """Load one YAML document through the handler: (data, offset of the root node,
    key offsets, merge offset); the Loader hands back all four."""
    result: _YamlResult = handler.load(block, Loader=loader_class)
    return result


def _parse_yaml(handler: YAMLHandler, block: str, fm: FrontMatter) -> None:
    try:
        try:
            result = _load_yaml(handler, _FastLoader, block)
        except Exception:
            if not _HAVE_LIBYAML:  # the same loader would only fail again
                raise
            result = _load_yaml(handler, _PyLoader, block)
    except yaml.MarkedYAMLError as exc:
        message, index = _describe_yaml_error(exc, block)
        _fail(fm, message, _line_of(block, index, fm) if index is not None else fm.start_line)
        return
    except yaml.reader.ReaderError as exc:
        message = f"unacceptable character #x{exc.character:04x}: {exc.reason}"
        _fail(fm, message, _line_of(block, int(exc.position), fm))
        return
    except RecursionError:
        _fail(fm, "front matter is nested too deeply", fm.start_line)
        return
    except Exception as exc:  # a value a constructor cannot read, or a loader bug
        number, value = bad_value(block, _PyLoader)
        if number is not None:
            line = min(fm.start_line + number, fm.end_line or fm.start_line + number)
            why = "" if str(exc).strip("'\"") == value else f" ({exc})"
            _fail(fm, f"cannot read the value {value!r}{why}", line)
        else:
            _fail(fm, str(exc) or type(exc).__name__, fm.start_line)
        return

    data, root_offset, key_offsets, merge_offset = result
    if data is None:  # empty block, only comments, or an explicit null
        return
    if not isinstance(data, dict):
        _fail(fm, _NOT_A_MAPPING, _line_of(block, root_offset, fm))
        return
    budget = Budget()  # (one for the whole front matter: a bomb spread over keys)
    for key, value in data.items():
        problem = unbounded(value, budget)
        if problem:
            offset = key_offsets.get(key)
            line = _line_of(block, offset, fm) if offset is not None else fm.start_line
            _fail(fm, f"'{key}' {problem}", line)
            return
    fm.data = {key if isinstance(key, str) else str(key): value for key, value in data.items()}
    key_lines = {key: _line_of(block, offset, fm) for key, offset in key_offsets.items()}
    if merge_offset is not None:  # keys that only come from a `<<: *anchor` merge
        merge_line = _line_of(block, merge_offset, fm)
        for key in fm.data:
            key_lines.setdefault(key, merge_line)
    fm.key_lines = {key: line for key, line in key_lines.items() if key in fm.data}


def _describe_yaml_error(exc: yaml.MarkedYAMLError, block: str) -> tuple[str, int | None]:
    """A one-line message and the offset to report, for a PyYAML error."""
    problem = (exc.problem or "").strip()
    context = (exc.context or "").strip()
    message = f"{problem} ({context})" if problem and context else problem or context
    mark = exc.problem_mark or exc.context_mark
    # "found unexpected end of stream" and friends point past the last line; the
    # context mark (where the unclosed quote or bracket opened) is more useful.
    if (
        exc.context_mark is not None
        and exc.problem_mark is not None
        and not block[exc.problem_mark.index :].strip()
    ):
        mark = exc.context_mark
    if mark is None:
        return message or "invalid YAML", None
    return message or "invalid YAML", _before_trailing_space(block, mark.index)


def _before_trailing_space(block: str, index: int) -> int:
    """``index``, or the last non-blank character when only blanks follow it."""
    if block[index:].strip():
        return index
    return max(0, len(block.rstrip()) - 1)


# -- TOML ----------------------------------------------------------------------

# tomllib's messages end in "(at line N, column M)" or "(at end of document)".
_TOML_LOCATION = re.compile(
    r"(?P<msg>.*?) \((?:at line (?P<line>\d+), column (?P<col>\d+)|at end of document)\)", re.S
)

_BARE_KEY = r"[A-Za-z0-9_-]+"
_TOML_KEY = rf"(?:{_BARE_KEY}|\"(?:[^\"\\\n]|\\.)*\"|'[^'\n]*')"
_TOML_ASSIGN = re.compile(rf"[ \t]*({_TOML_KEY})(?:[ \t]*\.[ \t]*{_TOML_KEY})*[ \t]*=")
_TOML_HEADER = re.compile(
    rf"[ \t]*\[\[?[ \t]*({_TOML_KEY})(?:[ \t]*\.[ \t]*{_TOML_KEY})*[ \t]*\]\]?[ \t]*(?:#.*)?$"
)
_TOML_BASIC_STRING = re.compile(r"\"(?:[^\"\\\n]|\\.)*\"")


def _parse_toml(handler: BaseHandler, block: str, fm: FrontMatter) -> None:
    import tomllib

    try:
        data = handler.load(block)
    except tomllib.TOMLDecodeError as exc:
        text = str(exc)
        found = _TOML_LOCATION.fullmatch(text)
        if found is None:
            _fail(fm, text, fm.start_line)
        elif found["line"] is None:  # "at end of document": blame the last line written
            _fail(fm, found["msg"], _line_of(block, _before_trailing_space(block, len(block)), fm))
        else:
            message = f"{found['msg']} (column {found['col']})"
            _fail(fm, message, max(fm.start_line, min(int(found["line"]) + 1, fm.end_line)))
        return
    except RecursionError:
        _fail(fm, "front matter is nested too deeply", fm.start_line)
        return
    except Exception as exc:  # see _parse_yaml
        _fail(fm, str(exc) or type(exc).__name__, fm.start_line)
        return
    fm.data = data
    fm.key_lines = _toml_key_lines(block, data)


class _TomlScan:
    """Just enough TOML lexing to tell which lines start a key or a table.

    Tracks multi-line strings and arrays spanning lines, so that text inside
    them is not taken for a key or a ``[table]`` header.
    """

    def __init__(self) -> None:
        self.open_string = ""  # '"""' or "'''" while inside a multi-line string
        self.depth = 0  # open [ and { brackets

    @property
    def inside_value(self) -> bool:
        return bool(self.open_string) or self.depth > 0

    def feed(self, line: str, pos: int = 0) -> None:
        length = len(line)
        while pos < length:
            if self.open_string:
                end = line.find(self.open_string, pos)
                if end < 0:
                    return
                pos = end + 3
                self.open_string = ""
                continue
            char = line[pos]
            if char == "#":
                return
            if line.startswith('"""', pos) or line.startswith("'''", pos):
                self.open_string = line[pos : pos + 3]
                pos += 3
            elif char == '"':
                found = _TOML_BASIC_STRING.match(line, pos)
                if found is None:
                    return
                pos = found.end()
            elif char == "'":
                end = line.find("'", pos + 1)
                if end < 0:
                    return
                pos = end + 1
            else:
                if char in "[{":
                    self.depth += 1
                elif char in "]}":
                    self.depth = max(0, self.depth - 1)
                pos += 1


def _toml_key_name(token: str) -> str | None:
    if not token.startswith(("'", '"')):
        return token
    import tomllib

    try:
        return next(iter(tomllib.loads(f"{token} = 0")))
    except (tomllib.TOMLDecodeError, StopIteration):
        return None


def _toml_key_lines(block: str, data: dict[str, Any]) -> dict[str, int]:
    key_lines: dict[str, int] = {}
    scan = _TomlScan()
    in_table = False
    for number, line in enumerate(block.split("\n"), start=2):
        if scan.inside_value:
            scan.feed(line)
            continue
        header = _TOML_HEADER.match(line)
        if header is not None:
            in_table = True
            name = _toml_key_name(header[1])
            if name is not None and name in data:
                key_lines.setdefault(name, number)
            continue
        assign = _TOML_ASSIGN.match(line)
        if assign is None:
            continue
        if not in_table:
            name = _toml_key_name(assign[1])
            if name is not None and name in data:
                key_lines.setdefault(name, number)
        scan.feed(line, assign.end())
    return key_lines


# -- JSON ----------------------------------------------------------------------

_JSON_SPECIAL = re.compile(r'[{}"\\]')


def _json_block(handler: JSONHandler, text: str, lines: list[str]) -> tuple[FrontMatter, int]:
    fm = FrontMatter(format="json", start_line=1)
    start = text.index("{")
    end, key_offsets = _scan_json_object(text, start)
    if end is None:
        fm.error = "front matter block opened on line 1 is never closed (no closing '}')"
        fm.error_line = 1
        return fm, len(lines)
    fm.end_line = text.count("\n", 0, end) + 1
    try:
        data = handler.load(text[start : end + 1])
    except json.JSONDecodeError as exc:
        # The slice starts on line 1, so its line numbers are the file's.
        _fail(fm, exc.msg, max(1, min(exc.lineno, fm.end_line)))
        return fm, fm.end_line
    except RecursionError:
        _fail(fm, "front matter is nested too deeply", 1)
        return fm, fm.end_line
    except Exception as exc:  # see _parse_yaml
        _fail(fm, str(exc) or type(exc).__name__, 1)
        return fm, fm.end_line
    if not isinstance(data, dict):  # pragma: no cover - a balanced {...} is an object
        _fail(fm, _NOT_A_MAPPING, 1)
        return fm, fm.end_line
    breaks = _newlines(text)
    for key, value in data.items():  # (as for YAML: 600 nested [ broke the cache's codec)
        problem = unbounded(value)
        if problem:
            offset = key_offsets.get(key)
            line = bisect.bisect_left(breaks, offset) + 1 if offset is not None else 1
            _fail(fm, f"'{key}' {problem}", line)
            return fm, fm.end_line
    fm.data = data
    fm.key_lines = {
        key: bisect.bisect_left(breaks, offset) + 1
        for key, offset in key_offsets.items()
        if key in data
    }
    return fm, fm.end_line


def _scan_json_object(text: str, start: int) -> tuple[int | None, dict[str, int]]:
    """Find the brace closing the object opened at ``start``, as Hugo's lexer does.

    Hugo counts ``{`` and ``}`` outside double quotes and skips the character
    after a backslash. Also returns the offset of each key written at depth 1
    (the last one written, which is the one ``json`` keeps).
    """
    depth = 0
    in_string = False
    string_start = 0
    keys: dict[str, int] = {}
    pos = start
    while True:
        found = _JSON_SPECIAL.search(text, pos)
        if found is None:
            return None, keys
        pos = found.start()
        char = text[pos]
        if char == "\\":
            pos += 2
            continue
        if char == '"':
            if not in_string:
                in_string = True
                string_start = pos
            else:
                in_string = False
                if depth == 1:
                    _record_json_key(text, string_start, pos, keys)
        elif not in_string:
            depth += 1 if char == "{" else -1
            if depth == 0:
                return pos, keys
        pos += 1


def _record_json_key(text: str, start: int, end: int, keys: dict[str, int]) -> None:
    after = end + 1
    length = len(text)
    while after < length and text[after] in " \t\r\n":
        after += 1
    if after >= length or text[after] != ":":
        return
    try:
        key = json.loads(text[start : end + 1])
    except ValueError:
        return
    if isinstance(key, str):
        keys[key] = start
