"""`--format html`: one self-contained page to read a site's findings in.

Inline CSS, JavaScript and SVG, no network: it opens from disk and as a CI
artifact. A summary of the run; charts where a picture reads faster than a
table (findings by rule, by section stacked by rule, the most-linked missing
targets with the pages that link to them); and every finding in a table that
filters by rule, severity, path prefix and text, a page of rows at a time.
The charts are SVG drawn here; the table is drawn by the page's script from
the findings embedded as JSON, so 10,000 rows cost one page of DOM.
"""

from __future__ import annotations

import html
import json
from collections import Counter, defaultdict
from typing import Any, TextIO

from handbook_lint.checks.registry import Finding
from handbook_lint.report.model import Report, fix_kind
from handbook_lint.report.stats import missing_targets

# Okabe and Ito's palette (readable with colour blindness; its sky blue and
# orange darkened), then a grey for the rest: each keeps 3:1 against both page
# backgrounds (white 3.06 to 5.19, #161616 3.49 to 5.91).
PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#3a93c8", "#b07d00", "#8f7f00")
OTHER = "#8a8a8a"
TOP_SECTIONS = 15
TOP_TARGETS = 20
PAGES_PER_TARGET = 10


def write(report: Report, out: TextIO) -> None:
    findings = report.findings
    by_rule = Counter(f.rule for f in findings)
    ranked = [rule for rule, _ in sorted(by_rule.items(), key=lambda kv: (-kv[1], kv[0]))]
    colours = {rule: PALETTE[i] for i, rule in enumerate(ranked[: len(PALETTE)])}
    title = f"handbook-lint report: {report.site}" if report.site else "handbook-lint report"
    parts = [
        _HEAD.replace("{title}", _e(title)),
        '<a class="skip" href="#findings">Skip to the findings</a>\n<header>\n',
        f"<h1>{_e(title)}</h1>\n<p class=lead>{_e(_lead(report))}</p>\n</header>\n<main>\n",
        _summary(report),
    ]
    if findings:
        parts += [
            _rule_chart(by_rule, ranked, colours, report),
            _section_chart(findings, ranked, colours),
            _targets(findings, report),
        ]
    parts += [
        _table(report, ranked),
        _rules(report, ranked),
        "</main>\n",
        _script(report, ranked),
        "</body>\n</html>\n",
    ]
    out.write("".join(parts))


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _lead(report: Report) -> str:
    errors, warnings, infos = (report.count(s) for s in ("error", "warning", "info"))
    if not report.findings:
        return f"{_n(report.files, 'file')} checked: no problems."
    found = ", ".join(
        [_n(errors, "error"), _n(warnings, "warning")] + ([f"{infos:,} info"] if infos else [])
    )
    return f"{_n(report.files, 'file')} checked: {found}."


def _summary(report: Report) -> str:
    rows: list[tuple[str, str]] = [("Files checked", f"{report.files:,}")]
    for severity in ("error", "warning", "info"):
        rows.append((f"{severity.capitalize()}s", f"{report.count(severity):,}"))
    if report.compared_with:
        listed = f"{report.new:,} new findings listed"
        if report.old_listed:
            listed += f", and {report.old_listed:,} of the changed files that were already there"
        if report.not_counted:
            listed += f"; {report.not_counted:,} already there not listed"
        rows.append(("Compared with", f"{report.compared_with} ({listed})"))
    if report.in_baseline:
        rows.append(("Hidden by the baseline", f"{report.in_baseline:,}"))
    if report.unverified:
        rows.append(("Links not verified", f"{report.unverified:,}"))
    if report.site:
        rows.append(("Site", report.site))
    if report.commit:
        rows.append(("Commit", report.commit))
    if report.started:
        took = f", took {report.seconds:.1f} s" if report.seconds is not None else ""
        rows.append(("Run", f"{report.started}{took}"))
    rows += [(name, value) for name, value in report.settings.items()]
    rows.append(("handbook-lint", report.version))
    items = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in rows)
    return (
        '<section aria-labelledby="summary-h">\n<h2 id="summary-h">Summary</h2>\n'
        f'<dl class="summary">{items}</dl>\n</section>\n'
    )


def _height(rows: int) -> int:
    return 26 * rows + 8


ROOM = 430  # the bars' width: 760 less the labels (260) and the counts


def _rule_chart(
    by_rule: Counter[str], ranked: list[str], colours: dict[str, str], report: Report
) -> str:
    most = max(by_rule.values())
    height, room = _height(len(ranked)), ROOM
    rows = []
    for i, rule in enumerate(ranked):
        y = 4 + 26 * i
        length = max(2.0, by_rule[rule] / most * room)
        rows.append(
            f'<a href="#findings" class="filter" data-rule="{_e(rule)}" '
            f'aria-label="{_e(rule)}: {by_rule[rule]:,} findings">'
            f'<text x="252" y="{y + 16}" text-anchor="end" class="label">{_e(rule)}</text>'
            f'<rect x="260" y="{y + 3}" width="{length:.1f}" height="18" rx="2" '
            f'fill="{colours.get(rule, OTHER)}"><title>{_e(rule)}: {by_rule[rule]:,}</title></rect>'
            f'<text x="{260 + length + 6:.1f}" y="{y + 16}" class="value">{by_rule[rule]:,}</text>'
            "</a>"
        )
    table = "".join(f"<tr><th scope=row>{_e(r)}</th><td>{by_rule[r]:,}</td></tr>" for r in ranked)
    return (
        '<section aria-labelledby="rules-h">\n<h2 id="rules-h">Findings by rule</h2>\n'
        '<p class="hint">Select a bar to list that rule\'s findings.</p>\n'
        f'<svg viewBox="0 0 760 {height}" width="760" height="{height}" role="group" '
        f'aria-label="Findings by rule, as bars">{"".join(rows)}</svg>\n'
        f"<details><summary>As a table</summary><table><thead><tr><th scope=col>Rule</th>"
        f"<th scope=col>Findings</th></tr></thead><tbody>{table}</tbody></table></details>\n"
        "</section>\n"
    )


def sections(paths: list[str], depth_limit: int = 4) -> dict[str, str]:
    """Each path's section: its first folder, or deeper where one folder holds
    more than half of the findings (everything under `content/handbook/` is
    split into its folders), at most `depth_limit` folders deep."""
    weights = Counter(paths)
    total = sum(weights.values())
    assigned: dict[str, str] = {}

    def split(members: list[str], depth: int) -> None:
        groups: defaultdict[str, list[str]] = defaultdict(list)
        for path in members:
            parts = path.split("/")
            groups["/".join(parts[: min(depth, len(parts) - 1)]) or "(top)"].append(path)
        for key, inside in groups.items():
            share = sum(weights[p] for p in inside) / total
            deeper = any(p.count("/") > depth for p in inside)
            if share > 0.5 and deeper and depth < depth_limit:
                split(inside, depth + 1)
            else:
                assigned.update({p: key for p in inside})

    split(list(weights), 1)
    return assigned


def _section_chart(findings: list[Finding], ranked: list[str], colours: dict[str, str]) -> str:
    """Findings per section, stacked by rule; and, to pick from a list, one
    chart per rule with the sections in that rule's order (which section has
    the most broken links?)."""
    section_of = sections([f.path for f in findings])
    counts: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for f in findings:
        counts[section_of[f.path]][f.rule] += 1
    keys = [r for r in ranked if r in colours]
    charts = [_sections_svg(counts, None, keys, colours)]
    several = len(ranked) > 1
    charts += [_sections_svg(counts, rule, keys, colours) for rule in ranked if several]
    options = '<option value="">all rules, stacked</option>' + "".join(
        f'<option value="{_e(r)}">{_e(r)}</option>' for r in ranked
    )
    picker = (
        f'<label class="chart-rule">Rule <select id="s-rule">{options}</select></label>\n'
        if several
        else ""
    )
    legend = "".join(
        f'<li><span class="swatch" style="background:{colours[r]}"></span>{_e(r)}</li>'
        for r in keys
    )
    if len(ranked) > len(keys):
        legend += f'<li><span class="swatch" style="background:{OTHER}"></span>other rules</li>'
    order = sorted(counts, key=lambda s: (-sum(counts[s].values()), s))
    table_rows = "".join(
        f"<tr><th scope=row>{_e(s)}</th><td>{sum(counts[s].values()):,}</td><td>"
        + _e(", ".join(f"{r} {n:,}" for r, n in counts[s].most_common()))
        + "</td></tr>"
        for s in order
    )
    return (
        '<section aria-labelledby="sections-h">\n'
        '<h2 id="sections-h">Findings by section</h2>\n'
        '<p class="hint">Each bar is a folder; select a folder to list its findings, or '
        "a rule to rank the folders by it.</p>\n"
        f"{picker}{''.join(charts)}"
        f'<ul class="legend" aria-label="Colours">{legend}</ul>\n'
        "<details><summary>As a table (every section)</summary><table><thead><tr>"
        "<th scope=col>Section</th><th scope=col>Findings</th><th scope=col>By rule</th>"
        f"</tr></thead><tbody>{table_rows}</tbody></table></details>\n</section>\n"
    )


def _sections_svg(
    counts: defaultdict[str, Counter[str]],
    rule: str | None,
    keys: list[str],
    colours: dict[str, str],
) -> str:
    """One chart: every rule stacked (`rule` None), or one rule's findings."""

    def total(name: str) -> int:
        return counts[name][rule] if rule else sum(counts[name].values())

    order = sorted((s for s in counts if total(s)), key=lambda s: (-total(s), s))
    shown, rest = order[:TOP_SECTIONS], order[TOP_SECTIONS:]
    merged: Counter[str] = Counter()
    for name in rest:
        merged.update(counts[name])
    rows_of = {name: counts[name] for name in shown}
    if rest:
        other = f"{len(rest)} other sections"
        rows_of[other] = merged
        shown = [*shown, other]
    most = max((c[rule] if rule else sum(c.values())) for c in rows_of.values())
    rows = []
    for i, name in enumerate(shown):
        y = 4 + 26 * i
        x = 260.0
        row = rows_of[name]
        label = f'<text x="252" y="{y + 16}" text-anchor="end" class="label">{_e(name)}</text>'
        # (a folder that holds other sections lists them too: not a link)
        parent = any(other.startswith(name + "/") for other in counts)
        if name in counts and name != "(top)" and not parent:
            rule_attr = f' data-rule="{_e(rule)}"' if rule else ""
            value = counts[name][rule] if rule else sum(counts[name].values())
            label = (
                f'<a href="#findings" class="filter" data-path="{_e(name)}/"{rule_attr} '
                f'aria-label="{_e(name)}: {value:,} findings">{label}</a>'
            )
        pieces = []
        parts = [rule] if rule else [*keys, None]
        for part in parts:
            n = row[part] if part else sum(v for r, v in row.items() if r not in colours)
            if not n:
                continue
            length = n / most * ROOM
            pieces.append(
                f'<rect x="{x:.1f}" y="{y + 3}" width="{max(length, 1):.1f}" height="18" '
                f'fill="{colours.get(part or "", OTHER)}"><title>{_e(name)}: {n:,} '
                f"{_e(part or 'other rules')}</title></rect>"
            )
            x += length
        value = row[rule] if rule else sum(row.values())
        rows.append(
            f"<g>{label}{''.join(pieces)}"
            f'<text x="{x + 6:.1f}" y="{y + 16}" class="value">{value:,}</text></g>'
        )
    what = f"Findings of {rule} by section" if rule else "Findings by section, stacked by rule"
    hidden = " hidden" if rule else ""
    height = _height(len(shown))
    return (
        f'<svg class="sections" data-rule="{_e(rule or "")}"{hidden} viewBox="0 0 760 '
        f'{height}" width="760" height="{height}" role="group" aria-label="{_e(what)}">'
        f"{''.join(rows)}</svg>\n"
    )


def _targets(findings: list[Finding], report: Report) -> str:
    targets = missing_targets(findings)
    if not targets:
        return ""
    top = targets[:TOP_TARGETS]
    items = []
    for target, found in top:
        count = len(found)
        first: dict[str, Finding] = {}
        for f in found:
            first.setdefault(f.path, f)
        pages = sorted(first)
        lis = []
        for path in pages[:PAGES_PER_TARGET]:
            f = first[path]
            where = f"{path}:{f.line}"
            link = report.source_link(f)
            lis.append(
                f'<li><a href="{_e(link)}">{_e(where)}</a></li>'
                if link
                else f"<li>{_e(where)}</li>"
            )
        if len(pages) > PAGES_PER_TARGET:
            lis.append(f"<li>and {len(pages) - PAGES_PER_TARGET:,} more pages</li>")
        items.append(
            f"<li><details><summary><code>{_e(target)}</code>: "
            f"{_n(count, 'link')} from {_n(len(pages), 'page')}</summary>"
            f"<ul>{''.join(lis)}</ul></details></li>"
        )
    return (
        '<section aria-labelledby="targets-h">\n'
        f'<h2 id="targets-h">Most-linked missing targets (top {len(top)} of '
        f"{len(targets):,})</h2>\n"
        '<p class="hint">Pages and anchors that links point to but that do not exist; '
        "open one to see the pages that link to it.</p>\n"
        f'<ol class="targets">{"".join(items)}</ol>\n</section>\n'
    )


def _table(report: Report, ranked: list[str]) -> str:
    options = "".join(f'<option value="{_e(r)}">{_e(r)}</option>' for r in sorted(ranked))
    return (
        '<section aria-labelledby="findings">\n<h2 id="findings" tabindex="-1">Findings</h2>\n'
        '<form class="filters" role="search" onsubmit="return false">\n'
        '<label>Rule <select id="f-rule"><option value="">all rules</option>'
        f"{options}</select></label>\n"
        '<label>Severity <select id="f-severity"><option value="">all</option>'
        '<option value="error">error</option><option value="warning">warning</option>'
        '<option value="info">info</option></select></label>\n'
        '<label>Path starts with <input id="f-path" type="text" '
        'placeholder="content/handbook/" autocomplete="off"></label>\n'
        '<label>Text <input id="f-text" type="search" autocomplete="off"></label>\n'
        '<button type="button" id="f-clear">Clear</button>\n</form>\n'
        '<p id="f-count" aria-live="polite"></p>\n'
        '<table class="findings"><caption class="visually-hidden">Findings</caption>'
        "<thead><tr><th scope=col>Location</th><th scope=col>Severity</th>"
        "<th scope=col>Rule</th><th scope=col>Message</th><th scope=col>Suggestion</th>"
        '</tr></thead><tbody id="rows"></tbody></table>\n'
        '<nav class="pager" aria-label="Pages of findings">'
        '<button type="button" id="p-prev">Previous page</button> '
        '<span id="p-where"></span> <button type="button" id="p-next">Next page</button>'
        "</nav>\n</section>\n"
    )


def _rules(report: Report, ranked: list[str]) -> str:
    """Each rule of the report, explained (its documentation, in the page)."""
    if not ranked:
        return ""
    from markdown_it import MarkdownIt  # (only for a report with findings)

    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    items = []
    for rule in sorted(ranked):
        info = report.rules.get(rule)
        summary = info.summary if info else ""
        doc = md.render(info.help) if info and info.help else ""
        web = report.web_docs_link(rule)
        more = f' <a href="{_e(web)}">Documentation</a>' if web else ""
        items.append(
            f'<li id="rule-{_e(rule)}"><details><summary><code>{_e(rule)}</code>: '
            f'{_e(summary)}</summary><div class="doc">{doc}{more}</div></details></li>'
        )
    return (
        '<section aria-labelledby="rules-doc-h">\n<h2 id="rules-doc-h">The rules</h2>\n'
        f'<ul class="rules">{"".join(items)}</ul>\n</section>\n'
    )


def _data(report: Report, ranked: list[str]) -> dict[str, Any]:
    rules = sorted(ranked)
    rule_index = {r: i for i, r in enumerate(rules)}
    files: list[str] = []
    file_index: dict[str, int] = {}
    rows = []
    for f in report.findings:
        if f.path not in file_index:
            file_index[f.path] = len(files)
            files.append(f.path)
        kind = fix_kind(f)
        rows.append(
            [
                file_index[f.path],
                f.line,
                f.column,
                rule_index[f.rule],
                ("error", "warning", "info").index(f.severity)
                if f.severity in ("error", "warning", "info")
                else 1,
                f.text,
                f.suggestion or "",
                1 if kind == "safe" else 2 if kind == "unsafe" else 0,
            ]
        )
    source = report.source
    return {
        "rules": rules,
        "docs": [report.web_docs_link(r) or "" for r in rules],
        "files": files,
        "rows": rows,
        "source": source.url if source else None,
        # each file's path in the repository (null: outside it)
        "repo": [source.repo_path(f) for f in files] if source else None,
    }


def _script(report: Report, ranked: list[str]) -> str:
    data = json.dumps(_data(report, ranked), ensure_ascii=False, separators=(",", ":"))
    # No `<` at all inside the script element (`</script>` would end it, `<!--`
    # change how it is read): JSON writes it as \u003c.
    data = data.replace("<", "\\u003c")
    return (
        f'<script type="application/json" id="data">{data}</script>\n<script>{_SCRIPT}</script>\n'
    )


_HEAD = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>{title}</title>
<style>
:root { --bg: #ffffff; --fg: #1b1b1b; --muted: #555555; --line: #d0d0d0;
  --head: #f2f2f2; --link: #0b57b0; --error: #b00020; --warning: #8a5300;
  --info: #1f5f8b; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #161616; --fg: #ececec; --muted: #b4b4b4; --line: #444444;
    --head: #242424; --link: #8ab4f8; --error: #ff8a8a; --warning: #f0b35a;
    --info: #8cc8f0; }
}
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1200px; padding: 0 1rem 2rem; background: var(--bg);
  color: var(--fg); font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
a { color: var(--link); }
:focus-visible { outline: 3px solid var(--link); outline-offset: 2px; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 1rem; background: var(--bg); padding: .3rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; }
h1 { font-size: 1.6rem; margin: 1.2rem 0 .2rem; }
h2 { font-size: 1.25rem; margin: 1.8rem 0 .4rem; border-bottom: 1px solid var(--line); }
.lead { font-size: 1.1rem; margin: 0 0 1rem; }
.hint { color: var(--muted); margin: .2rem 0 .6rem; }
dl.summary { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; }
dl.summary dt { font-weight: 600; }
dl.summary dd { margin: 0; overflow-wrap: anywhere; }
svg { max-width: 100%; height: auto; display: block; }
svg text { fill: var(--fg); font-size: 13px; }
svg .value { fill: var(--muted); }
svg a:focus rect, svg a:hover rect { stroke: var(--fg); stroke-width: 2; }
.chart-rule { display: inline-flex; gap: .4rem; align-items: center; font-weight: 600;
  font-size: 13px; margin: 0 0 .4rem; }
svg[hidden] { display: none; }
.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .3rem 1rem; }
.swatch { display: inline-block; width: .9rem; height: .9rem; margin-right: .3rem;
  vertical-align: -2px; border-radius: 2px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .3rem .45rem; border-bottom: 1px solid var(--line);
  vertical-align: top; }
thead th { background: var(--head); position: sticky; top: 0; }
table.findings { table-layout: fixed; }
table.findings th:nth-child(1) { width: 30%; }
table.findings th:nth-child(2) { width: 6.5rem; }
table.findings th:nth-child(3) { width: 12rem; }
table.findings th:nth-child(5) { width: 20%; }
td.loc { font-family: ui-monospace, monospace; font-size: 13px; overflow-wrap: anywhere; }
td.rule, td.msg { overflow-wrap: anywhere; }
td.sug { font-family: ui-monospace, monospace; font-size: 13px; overflow-wrap: anywhere; }
.sev-error { color: var(--error); font-weight: 600; }
.sev-warning { color: var(--warning); font-weight: 600; }
.sev-info { color: var(--info); }
.fixable { color: var(--muted); font-size: 12px; margin-left: .3rem; }
.filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: end; margin: .5rem 0; }
.filters label { display: flex; flex-direction: column; font-weight: 600; font-size: 13px; }
input, select, button { font: inherit; color: var(--fg); background: var(--bg);
  border: 1px solid var(--muted); border-radius: 3px; padding: .25rem .4rem; }
button { cursor: pointer; }
button:disabled { opacity: .5; cursor: default; }
.pager { margin: .6rem 0; display: flex; gap: .6rem; align-items: center; }
ol.targets li { margin: .2rem 0; }
ul.rules { list-style: none; padding: 0; }
ul.rules li { margin: .3rem 0; }
.doc { border-left: 3px solid var(--line); padding: 0 .8rem; margin: .3rem 0 .6rem; }
@media print {
  :root { --bg: #ffffff; --fg: #000000; --muted: #444444; --line: #bbbbbb;
    --head: #eeeeee; --link: #0b57b0; --error: #b00020; --warning: #8a5300; --info: #1f5f8b; }
  .filters, .pager, .skip, .hint, .chart-rule { display: none; }
  thead th { position: static; }
  body { max-width: none; }
  details { display: block; }
}
</style>
</head>
<body>
"""

_SCRIPT = r"""
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("data").textContent);
  var SEV = ["error", "warning", "info"];
  var PAGE = 100;
  var el = function (id) { return document.getElementById(id); };
  var state = { rule: "", severity: "", path: "", text: "", page: 0 };
  var matching = [];

  function isFilter(hash) { return hash.indexOf("=") >= 0 || hash === "" || hash === "#"; }

  function fromHash() {
    var params = new URLSearchParams(location.hash.replace(/^#/, ""));
    if (!isFilter(location.hash)) { params = new URLSearchParams(""); }
    state.rule = params.get("rule") || "";
    state.severity = params.get("severity") || "";
    state.path = params.get("path") || "";
    state.text = params.get("text") || "";
    state.page = 0;
    el("f-rule").value = state.rule;
    el("f-severity").value = state.severity;
    el("f-path").value = state.path;
    el("f-text").value = state.text;
  }

  function toHash() {
    var params = new URLSearchParams();
    ["rule", "severity", "path", "text"].forEach(function (k) {
      if (state[k]) { params.set(k, state[k]); }
    });
    var hash = params.toString();
    history.replaceState(null, "", hash ? "#" + hash : location.pathname + location.search);
  }

  function sourceLink(fileIndex, line) {
    var inRepo = D.source && D.repo[fileIndex];
    if (!inRepo) { return null; }
    var encoded = inRepo.split("/").map(encodeURIComponent).join("/");
    return D.source.replace("{path}", encoded).replace("{line}", String(Math.max(line, 1)));
  }

  function filter() {
    var rule = state.rule ? D.rules.indexOf(state.rule) : -1;
    var sev = state.severity ? SEV.indexOf(state.severity) : -1;
    var path = state.path;
    var text = state.text.toLowerCase();
    matching = [];
    for (var i = 0; i < D.rows.length; i++) {
      var r = D.rows[i];
      if (state.rule && r[3] !== rule) { continue; }
      if (state.severity && r[4] !== sev) { continue; }
      var file = D.files[r[0]];
      if (path && file.lastIndexOf(path, 0) !== 0) { continue; }
      if (text && (file + " " + r[5] + " " + r[6] + " " + D.rules[r[3]])
          .toLowerCase().indexOf(text) < 0) { continue; }
      matching.push(r);
    }
  }

  function cell(tr, className, content) {
    var td = document.createElement("td");
    if (className) { td.className = className; }
    if (content instanceof Node) { td.appendChild(content); }
    else { td.textContent = content; }
    tr.appendChild(td);
    return td;
  }

  function render() {
    var body = el("rows");
    var size = state.printing ? Math.max(matching.length, 1) : PAGE;
    var pages = Math.max(1, Math.ceil(matching.length / size));
    state.page = Math.min(state.page, pages - 1);
    var start = state.page * size;
    var rows = matching.slice(start, start + size);
    var frag = document.createDocumentFragment();
    rows.forEach(function (r) {
      var tr = document.createElement("tr");
      var file = D.files[r[0]];
      var where = file + ":" + r[1] + (r[2] ? ":" + r[2] : "");
      var href = sourceLink(r[0], r[1]);
      var loc;
      if (href) { loc = document.createElement("a"); loc.href = href; loc.textContent = where; }
      else { loc = document.createTextNode(where); }
      cell(tr, "loc", loc);
      cell(tr, "sev-" + SEV[r[4]], SEV[r[4]]);
      var rule = D.rules[r[3]];
      var ruleNode = document.createElement("a");
      ruleNode.href = D.docs[r[3]] || "#rule-" + rule;
      ruleNode.textContent = rule;
      cell(tr, "rule", ruleNode);
      var msg = cell(tr, "msg", r[5]);
      if (r[7]) {
        var mark = document.createElement("span");
        mark.className = "fixable";
        mark.textContent = r[7] === 1 ? "fixable" : "fixable (unsafe)";
        msg.appendChild(mark);
      }
      cell(tr, "sug", r[6]);
      frag.appendChild(tr);
    });
    body.replaceChildren(frag);
    var total = D.rows.length.toLocaleString("en");
    var noun = matching.length === 1 ? " matching finding (" : " matching findings (";
    el("f-count").textContent = matching.length
      ? "Showing " + (start + 1).toLocaleString("en") + "\u2013" +
        (start + rows.length).toLocaleString("en") + " of " +
        matching.length.toLocaleString("en") + noun + total + " in all)."
      : "No finding matches (" + total + " in all).";
    el("p-where").textContent = "Page " + (state.page + 1) + " of " + pages;
    el("p-prev").disabled = state.page === 0;
    el("p-next").disabled = state.page >= pages - 1;
  }

  function update() { filter(); render(); toHash(); }

  ["f-rule", "f-severity"].forEach(function (id) {
    el(id).addEventListener("change", function () {
      state[id.slice(2)] = el(id).value; state.page = 0; update();
    });
  });
  ["f-path", "f-text"].forEach(function (id) {
    el(id).addEventListener("input", function () {
      state[id.slice(2)] = el(id).value; state.page = 0; update();
    });
  });
  el("f-clear").addEventListener("click", function () {
    location.hash = ""; fromHash(); update();
  });
  function turn(by) {
    state.page += by; render();
    el("findings").scrollIntoView(); el("findings").focus({ preventScroll: true });
  }
  el("p-prev").addEventListener("click", function () { turn(-1); });
  el("p-next").addEventListener("click", function () { turn(1); });
  Array.prototype.forEach.call(document.querySelectorAll("a.filter"), function (a) {
    a.addEventListener("click", function (event) {
      event.preventDefault();
      state.rule = a.getAttribute("data-rule") || "";
      state.path = a.getAttribute("data-path") || "";
      state.severity = ""; state.text = ""; state.page = 0;
      el("f-rule").value = state.rule; el("f-path").value = state.path;
      el("f-severity").value = ""; el("f-text").value = "";
      update();
      el("findings").focus();
    });
  });
  var chartRule = el("s-rule");
  if (chartRule) {
    chartRule.addEventListener("change", function () {
      Array.prototype.forEach.call(document.querySelectorAll("svg.sections"), function (svg) {
        if (svg.getAttribute("data-rule") === chartRule.value) { svg.removeAttribute("hidden"); }
        else { svg.setAttribute("hidden", ""); }
      });
    });
  }
  window.addEventListener("hashchange", function () {
    if (isFilter(location.hash)) { fromHash(); filter(); render(); }  // (not #findings)
  });
  // Printing shows every matching row and every folded part, then goes back.
  var folded = [];
  window.addEventListener("beforeprint", function () {
    folded = Array.prototype.filter.call(document.querySelectorAll("details"),
      function (d) { return !d.open; });
    folded.forEach(function (d) { d.open = true; });
    state.printing = true; render();
  });
  window.addEventListener("afterprint", function () {
    folded.forEach(function (d) { d.open = false; });
    state.printing = false; render();
  });
  if (isFilter(location.hash)) { fromHash(); } else { state.page = 0; }
  filter(); render();
})();
"""
