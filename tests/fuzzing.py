"""Input makers for the fuzz tests (tests/test_fuzz.py) and bench/fuzz.py.

Each maker is deterministic in its `random.Random`, so an input is named by a
seed and can be made again. Pages are mutated from real pages (a corpus page,
or one of SEED_PAGES): bytes flipped to characters Markdown and Hugo care
about, spans cut, repeated and spliced, snippets that broke parsers before
inserted, the front matter's fences and YAML tampered with, line endings and
encodings changed. Configs are built from the linter's real keys with values
of every type, then mutated as text. PATHOLOGICAL makes inputs of a given size
that are hard for a parser that scans more than once.
"""

from __future__ import annotations

import random
from collections.abc import Callable

SEED_PAGES = [
    "---\ntitle: Values\ndescription: What we value\naliases: [/old/values/]\n---\n\n"
    "## Collaboration {#collab}\n\nSee [mission](/handbook/company/mission/#goals) and "
    "[the team][team].\n\n1. one\n1. two\n   - nested [x](../other/)\n\n"
    '{{< include "includes/shared.md" >}}\n\n[team]: /handbook/team/\n',
    '+++\ntitle = "TOML page"\nweight = 3\n+++\n\n# Heading\n\n'
    '<a id="anchor"></a>\n\n| a | b |\n|---|---|\n| [l](#anchor) | `code` |\n\n'
    "```go\nfunc main() {}\n```\n",
    '{"title": "JSON page", "tags": ["a", "b"]}\n\n## Section\n\n> quote [q](/q/)\n\n'
    "Term\n: definition[^1]\n\n[^1]: a note\n",
    "No front matter at all.\n\nA [link](https://example.com/page#frag) and <https://x.org>.\n",
]

# What the mutators insert: pieces of Markdown, Hugo and YAML that matter.
SNIPPETS = [
    "[",
    "]",
    "](",
    "[t][x] ",
    "[x]: /y/\n",
    "[x]: <> 'title'\n",
    "![img](/i.png)",
    '<a id="z">',
    '<a name="q"></a>',
    "{#id}",
    "{.class #id key=val}",
    "## ",
    "\n# Heading\n",
    "\n---\n",
    "\n+++\n",
    "```",
    "~~~",
    "`",
    "    ",
    "\t",
    "> ",
    "- ",
    "1. ",
    "99999999999. ",
    "*",
    "_",
    "**",
    "&amp;",
    "&#x0;",
    "&#99999999;",
    "<!--",
    "-->",
    "<div>",
    "</div>",
    '{{< include "x.md" >}}',
    '{{% include "../../../../etc/passwd" %}}',
    '{{< ref "/a" >}}',
    "{{<",
    ">}}",
    "{{/* c */}}",
    "<!-- handbook-lint-disable link-broken -->",
    "<!-- handbook-lint-disable-next-line -->",
    "\\",
    "\r",
    "\r\n",
    "\x00",
    "\ufeff",
    "\u200b",
    "\u202e",
    "e\u0301",
    "\U0001f600",
    "\ud800",
    "ｆｕｌｌ",
    "misson",
    "https://",
    "http://[::1",
    "mailto:",
    "javascript:alert(1)",
    "#",
    "../",
    "/.././",
    "%",
    "%zz",
    "?a=b#c",
]

YAML_TRICKS = [
    "a: &a [*a]\n",
    "a: &x 1\nb: *x\n",
    "a: !!python/object:os.system x\n",
    "a: !!binary AAAA\n",
    "a: !!timestamp 2024-13-45\n",
    "a: 0x_\n",
    "a: !!float x\n",
    "a: !!bool maybe\n",
    "? [a, b]\n: c\n",
    "a: [" * 50 + "]" * 50 + "\n",
    "a: {b: {c: {d: {e: 1}}}}\n",
    "title: [1, 2]\n",
    "title: null\n",
    "date: 2024-02-30\n",
    "aliases: /not/a/list\n",
    "url: ''\n",
    "slug: ../..\n",
    "weight: 1e999\n",
    "draft: 'yes'\n",
    "a: |\n  block\n b: wrong indent\n",
    "\t: tab\n",
    "a: 'unclosed\n",
    "%YAML 1.1\n---\n",
    "<<: {a: 1}\n",
    "controlled_document: true\n",
]

_ALPHABET = "[]()#*_`<>{}!:|-\n\\&;\"'/% \t.=+~^$@"


def _span(rng: random.Random, text: str) -> tuple[int, int]:
    if not text:
        return 0, 0
    a = rng.randrange(len(text))
    return a, min(len(text), a + rng.choice((1, 2, 8, 40, 300)))


def _flip(rng: random.Random, text: str) -> str:
    chars = list(text)
    for _ in range(rng.choice((1, 3, 10))):
        if chars:
            chars[rng.randrange(len(chars))] = rng.choice(_ALPHABET)
    return "".join(chars)


def _insert(rng: random.Random, text: str) -> str:
    at = rng.randrange(len(text) + 1)
    piece = rng.choice(SNIPPETS) * rng.choice((1, 1, 1, 2, 5, 50))
    return text[:at] + piece + text[at:]


def _delete(rng: random.Random, text: str) -> str:
    a, b = _span(rng, text)
    return text[:a] + text[b:]


def _repeat(rng: random.Random, text: str) -> str:
    a, b = _span(rng, text)
    return text[:b] + text[a:b] * rng.choice((2, 10, 100)) + text[b:]


def _lines(rng: random.Random, text: str) -> str:
    lines = text.split("\n")
    choice = rng.randrange(4)
    if choice == 0:
        rng.shuffle(lines)
    elif choice == 1 and lines:
        i = rng.randrange(len(lines))
        lines[i] = " " * rng.choice((1, 2, 3, 4, 8)) + lines[i]
    elif choice == 2:
        lines = lines[: rng.randrange(len(lines) + 1)]
    else:
        lines = [line + rng.choice(("  ", "\\", " #", "\r")) for line in lines]
    return "\n".join(lines)


def _front(rng: random.Random, text: str) -> str:
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        body = text[end:] if end > 0 else "\n---\n"
        return "---\n" + rng.choice(YAML_TRICKS) + text[4 : max(end, 4)] + body
    return rng.choice(("---\n", "+++\n", "{", "---\n" + rng.choice(YAML_TRICKS) + "---\n")) + text


def _endings(rng: random.Random, text: str) -> str:
    return text.replace("\n", rng.choice(("\r\n", "\r", "\n\n", "\u2028")))


Mutator = Callable[[random.Random, str], str]
MUTATORS: list[Mutator] = [
    _flip,
    _insert,
    _insert,
    _delete,
    _repeat,
    _lines,
    _front,
    _endings,
]


def mutate_page(rng: random.Random, seeds: list[str]) -> str:
    """A page: one of `seeds` (or another spliced in) put through 1-6 mutations."""
    text = rng.choice(seeds)
    if rng.random() < 0.1:
        other = rng.choice(seeds)
        text = text[: rng.randrange(len(text) + 1)] + other[rng.randrange(len(other) + 1) :]
    for _ in range(rng.choice((1, 1, 2, 3, 6))):
        text = rng.choice(MUTATORS)(rng, text)
    return text


def page_bytes(rng: random.Random, text: str) -> bytes:
    """The page as it lies on disk: UTF-8 mostly; sometimes another encoding,
    a stray byte, or a lone surrogate written as its bytes."""
    data = text.encode("utf-8", "surrogatepass")
    roll = rng.random()
    if roll < 0.03:
        return text.encode("utf-16", "surrogatepass")
    if roll < 0.06:
        return text.encode("latin-1", "replace")
    if roll < 0.09 and data:
        at = rng.randrange(len(data))
        return data[:at] + bytes([rng.choice((0x80, 0xFF, 0xC0, 0xED, 0x00))]) + data[at:]
    return data


# -- configs ------------------------------------------------------------------

CONFIG_KEYS = [
    "extends",
    "content_dir",
    "base_url",
    "exclude",
    "cache_dir",
    "rules",
    "overrides",
    "external",
    "report",
    "includes",
    "taxonomies",
    "spelling",
    "codeowners",
    "languages",
    "static_mounts",
    "unknown_key",
]
RULE_NAMES = [
    "link-broken",
    "link-anchor-missing",
    "spelling",
    "list-numbering",
    "required-sections",
    "media-size",
    "media-location",
    "codeowners-required-owner",
    "front-matter-type",
    "no-such-rule",
]


def _value(rng: random.Random, depth: int = 0) -> object:
    kinds = ["str", "int", "float", "bool", "null", "list", "dict", "odd"]
    if depth > 3:
        kinds = kinds[:5]
    kind = rng.choice(kinds)
    if kind == "str":
        # (no path out of the site: a config may point the linter anywhere it
        # likes, and `content_dir: ../..` from a temporary folder lints all of /)
        return rng.choice(["", "off", "error", "warning", "**/*.md", "[", "content", "a/..", "x"])
    if kind == "int":
        return rng.choice([0, 1, -1, 100, 2**63, 10**100])
    if kind == "float":
        return rng.choice([0.5, -0.0, float("inf"), float("nan"), 1e308])
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "null":
        return None
    if kind == "list":
        return [_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    if kind == "dict":
        keys = rng.sample(["severity", "ignore", "words", "options", "files", "rules", "x"], 2)
        return {k: _value(rng, depth + 1) for k in keys}
    return rng.choice([{"severity": "error"}, ["a", 1, None], {"": ""}, [[[]]]])


def _yaml(value: object, indent: int = 0) -> str:
    """Flow-style YAML of plain data (keys and strings always quoted)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_yaml(str(k))}: {_yaml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_yaml(v) for v in value) + "]"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value:
            return ".nan"
        if value in (float("inf"), float("-inf")):
            return ".inf" if value > 0 else "-.inf"
    return repr(value)


PLAUSIBLE: dict[str, list[object]] = {
    "content_dir": ["content", "docs", "nope", ""],
    "base_url": ["https://example.org/", "/", "https://example.org/sub/", "not a url"],
    "exclude": [["**/drafts/**"], ["content/{a,b}/*.md"], ["["], []],
    "cache_dir": [".cache", "/proc/x", "a/../.cache2"],
    "taxonomies": [["tags"], [], ["tags", "tags"]],
    "redirects": [["static/_redirects"], []],
    "codeowners": ["", ".gitlab/CODEOWNERS", "missing/CODEOWNERS"],
    "hugo": [{"heading_ids": "github"}, {"heading_ids": "blackfriday"}, {"typographer": False}],
    "external": [{"enabled": False, "per_host": 2}, {"exclude": ["^https://"]}, {"jobs": 0}],
    "report": [{"site_name": "S"}, {"repo_url": "https://gitlab.com/a/b"}],
    "content_mounts": [[{"source": "docs", "target": "api"}], [{"source": 1}]],
    "static_mounts": [[{"source": "pics", "target": "img"}]],
}


def _option_value(rng: random.Random, default: object) -> object:
    """A value of the option's type mostly, another type sometimes."""
    if rng.random() < 0.05:
        return _value(rng, 2)
    if isinstance(default, bool):
        return rng.random() < 0.5
    if isinstance(default, int | float):
        return rng.choice([0, 1, 5, 500, -3, 2.5])
    if isinstance(default, list):
        return rng.choice([[], ["word", "GitLab"], ["**/*.md"], ["^/handbook/"], ["["], [1]])
    if isinstance(default, dict):
        return rng.choice([{}, {"x": {"paths": ["content/*.md"], "sections": ["## A"]}}])
    return rng.choice(["", "x", "static/images", "@group", "[", "**"])


def _rules(rng: random.Random) -> dict[str, object]:
    from handbook_lint.checks.registry import all_rules

    registry = all_rules()
    names = sorted(registry)
    out: dict[str, object] = {}
    for name in rng.sample(names, rng.randrange(1, 6)):
        severity = rng.choice(["off", "error", "warning", "info", "on"])
        if rng.random() < 0.03:
            severity = "bogus"
        options = registry[name].options
        if options and rng.random() < 0.7:
            chosen = rng.sample(sorted(options), rng.randrange(1, len(options) + 1))
            setting = {key: _option_value(rng, options[key]) for key in chosen}
            if rng.random() < 0.8:
                setting["severity"] = severity
            out[name] = setting
        else:
            out[name] = severity
    if rng.random() < 0.03:
        out["no-such-rule"] = "error"
    return out


def make_config(rng: random.Random) -> str:
    """The text of a `.handbook-lint.yaml`. Half of them plausible: real keys
    with values of their kind, real rules with real options (the registry's)
    of the right type mostly; the others with values of any type. Some are
    then mutated as text."""
    lines = []
    if rng.random() < 0.6:
        presets = ["gitlab-handbook", "hugo-docs"] * 10 + ["nope", "[1]"]
        lines.append(f"extends: {rng.choice(presets)}")
    if rng.random() < 0.6:
        for key in rng.sample(sorted(PLAUSIBLE), rng.randrange(0, 3)):
            lines.append(f"{key}: {_yaml(rng.choice(PLAUSIBLE[key]))}")
        lines.append(f"rules: {_yaml(_rules(rng))}")
        if rng.random() < 0.3:
            files = rng.choice([["content/a/**"], "x", ["["]])
            lines.append(f"overrides: [{_yaml({'files': files, 'rules': _rules(rng)})}]")
    else:
        for key in rng.sample(CONFIG_KEYS, rng.randrange(1, 5)):
            if key == "rules":
                rules = {
                    name: rng.choice(["off", "error", "info", "bogus", _value(rng, 1)])
                    for name in rng.sample(RULE_NAMES, rng.randrange(1, 4))
                }
                lines.append(f"rules: {_yaml(rules)}")
            elif key == "overrides":
                entry = {
                    "files": _value(rng, 2),
                    "rules": {rng.choice(RULE_NAMES): _value(rng, 2)},
                }
                lines.append(f"overrides: [{_yaml(entry)}]")
            else:
                lines.append(f"{key}: {_yaml(_value(rng))}")
    text = "\n".join(lines) + "\n"
    roll = rng.random()
    if roll < 0.05:
        text += rng.choice(YAML_TRICKS)
    elif roll < 0.15:
        text = rng.choice([_flip, _insert, _delete, _repeat, _lines])(rng, text)
    return text


# -- pathological inputs --------------------------------------------------------


def _fill(unit: str, size: int) -> str:
    return unit * max(1, size // len(unit))


def _yaml_keys(size: int) -> str:
    n = max(1, size // 12)
    return "---\n" + "".join(f"key{i:07d}: v\n" for i in range(n)) + "---\n\nbody\n"


PATHOLOGICAL: dict[str, Callable[[int], str]] = {
    # the inputs issue 16 timed (quadratic scans, once)
    "brackets: [t][x] and 100 [ per line": lambda n: _fill("[t][x] " + "[" * 100 + "\n", n),
    "reference definitions": lambda n: "".join(
        f"[ref{i}]: /p{i}/\n" for i in range(max(1, n // 16))
    ),
    "one paragraph of links": lambda n: _fill("[a](/b/) &amp; [c](/d/#e)\n", n),
    "<a id> tags": lambda n: "".join(f'<a id="a{i}"></a>\n' for i in range(max(1, n // 20))),
    "front matter keys": _yaml_keys,
    # more shapes that trip scanners
    "nested blockquotes": lambda n: _fill(">" * 200 + " x\n", n),
    "nested lists": lambda n: "".join("  " * (i % 100) + "- x\n" for i in range(n // 100)),
    "emphasis runs": lambda n: _fill("*a _b **c __d ", n),
    "backtick runs": lambda n: _fill("`" * 7 + "x" + "`" * 3 + " ", n),
    "unclosed HTML comment": lambda n: "<!--" + _fill("x -- y\n", n),
    "one long line": lambda n: "x" * n,
    "same heading": lambda n: _fill("## Same\n\n", n),
    "shortcodes": lambda n: _fill('{{< include "a.md" >}} {{% x %}}\n', n),
    "wide table": lambda n: "|" + "a|" * (n // 4) + "\n|" + "-|" * (n // 4) + "\n",
    "footnotes": lambda n: "".join(f"x[^{i}]\n\n[^{i}]: n\n" for i in range(n // 20)),
    "entities": lambda n: _fill("&#x1F600;&amp;&nbsp;&bogus; ", n),
    "autolinks": lambda n: _fill("<https://a.b/c> https://x.y/z ", n),
    "brackets only": lambda n: _fill("[", n),
    "nested brackets": lambda n: "[" * (n // 2) + "]" * (n // 2),
    "link destinations in angle brackets": lambda n: _fill("[a](<b c> 'd') ", n),
    "heading attributes": lambda n: _fill("## H {#id .c k=v}\n", n),
}
