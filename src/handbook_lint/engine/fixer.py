"""Applying the fixes findings carry (`check --fix`, `--diff`).

A fix is a set of edits to one file (checks/registry.py `Fix`). The fixer
applies a fix only when every edit still finds the text it expects where it
expects it, and when no edit overlaps one already taken in this pass (the next
pass, after a fresh check, gets the rest). Everything outside the edited spans
stays byte for byte: line endings, a byte order mark, a missing final newline,
tabs. A file that changed since the linter read it is skipped with a warning;
a file is written through a temporary file in its folder and renamed over, its
mode (and, where allowed, owner) kept.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from handbook_lint.atomic import write_keeping_mode
from handbook_lint.cache.store import content_hash
from handbook_lint.checks.registry import Edit, Finding, Fix
from handbook_lint.site.overlay import Overlay

if TYPE_CHECKING:
    from handbook_lint.engine.linter import Linter, Result

_BOM = "\ufeff"
# What diff and git write after a last line that has no line break.
NO_EOL = "\n\\ No newline at end of file\n"


@dataclass
class FixPass:
    """What one pass over the findings did (or, for --diff, would do)."""

    fixed: Counter[str] = field(default_factory=Counter)  # rule -> findings fixed
    files: dict[str, tuple[str, str]] = field(default_factory=dict)  # path -> (before, after)
    warnings: list[str] = field(default_factory=list)
    left: int = 0  # fixable findings the last run still reports
    refused: list[Finding] = field(default_factory=list)  # fixes their guard refused

    def merge(self, other: FixPass) -> None:
        """Add a later pass: a file's `before` stays the first pass's."""
        self.fixed.update(other.fixed)
        self.warnings += [w for w in other.warnings if w not in self.warnings]
        self.left += other.left
        for path, (before, after) in other.files.items():
            first = self.files.get(path)
            self.files[path] = (first[0] if first else before, after)

    def shown(self, name: Callable[[str], str]) -> FixPass:
        """The same with each file's path as `name` gives it."""
        files = {name(path): change for path, change in self.files.items()}
        return FixPass(Counter(self.fixed), files, list(self.warnings), self.left)

    def diff(self) -> str:
        """The unified diff of every changed file."""
        import difflib  # (only --diff shows one)

        out: list[str] = []
        for name, (before, after) in sorted(self.files.items()):
            for line in difflib.unified_diff(
                _lines(before),
                _lines(after),
                f"a/{name}",
                f"b/{name}",
            ):
                out.append(line if line.endswith("\n") else line + NO_EOL)
        return "".join(out)


def _lines(text: str) -> list[str]:
    """Lines with their `\n` (only `\n` breaks a line, as in git's diff)."""
    parts = text.split("\n")
    out = [part + "\n" for part in parts[:-1]]
    return [*out, parts[-1]] if parts[-1] else out


def wanted(findings: Iterable[Finding], unsafe: bool) -> list[Finding]:
    """The findings whose fix this run applies."""
    return [f for f in findings if f.fix is not None and (f.fix.safe or unsafe)]


MAX_PASSES = 5  # fixes that conflict wait for the next pass; this many at most
MAX_TRIALS = 25  # passes in all, with those that retry a file's fixes one at a time

Ident = tuple[str, str, str, int, int]  # a finding: path, rule, message, line, column


def fix_until_settled(
    first: Linter,
    make: Callable[[Overlay | None], Linter],
    named: list[str] | None,
    unsafe: bool,
    write: bool,
) -> tuple[Result, FixPass]:
    """Lint, fix, lint again, until no fix is left to apply (or MAX_PASSES): the
    last run's result (what remains) and what the passes did. Without `write`
    the fixed files live in an overlay the next pass lints (for --diff).

    A fix must not add a finding it cannot also fix. When a pass's fixes in a
    file add one, the file is put back as it was and its fixes are tried one at
    a time in the next passes; a fix that adds a finding alone is not applied
    (a warning names it). At the end, a file with more findings of a rule than
    it started with is put back whole."""
    done = FixPass()
    root = first.config.root
    linter = first
    result = linter.run(named)
    original = result.findings
    overlay: dict[str, bytes] = {}
    blocked: set[Ident] = set()  # fixes that add a finding: not applied again
    notes: dict[Ident, str] = {}  # why a fix is blocked (said if it still is at the end)
    single: set[str] = set()  # files whose fixes are tried one at a time
    budget, passes = MAX_PASSES, 0

    def put_back(path: str, before: str, written: str) -> None:
        if not write:
            overlay[path] = before.encode("utf-8")
            return
        problem = restore(root / path, before, written)
        if problem:
            done.warnings.append(f"{path}: {problem}")

    while passes < min(budget, MAX_TRIALS):
        passes += 1
        todo = _one_per_file(
            [f for f in wanted(result.findings, unsafe) if _ident(f) not in blocked], single
        )
        if not todo:
            break
        one = fix_files(root, todo, linter.store.hashes, unsafe, write, read=overlay.get)
        # A fix tried alone that its guard refuses: the next one of the file is next.
        alone = {_ident(f) for f in one.refused if f.path in single} - blocked
        blocked |= alone
        if not one.files:
            done.merge(one)
            if alone:
                budget += 1
                continue
            break
        if not write:
            overlay.update({p: after.encode("utf-8") for p, (_, after) in one.files.items()})
        linter = make(Overlay(dict(overlay), frozenset()) if overlay else None)
        after = linter.run(named)
        added = _added(result.findings, after.findings, set(one.files), unsafe)
        for path, finding in sorted(added.items()):
            before, written = one.files.pop(path)
            put_back(path, before, written)
            tried = [f for f in todo if f.path == path]
            if path in single:  # one fix alone added the finding: it stays unfixed
                blocked.update(_ident(f) for f in tried)
                notes[_ident(tried[0])] = (
                    f"{path}:{tried[0].line}: {tried[0].rule} not fixed: the fix would add "
                    f"{finding.rule} '{finding.message}'"
                )
                budget += 1
            else:  # a pass for each of its fixes, one at a time
                single.add(path)
                budget += len(tried)
        # A file that changed since a fix was refused or blocked in it: those
        # verdicts were about the old text, and its fixes are tried again.
        blocked = {ident for ident in blocked if ident[0] not in one.files}
        done.merge(one)
        if added:
            linter = make(Overlay(dict(overlay), frozenset()) if overlay else None)
            after = linter.run(named)
        result = after
    done.warnings += [note for ident, note in notes.items() if ident in blocked]
    # The net: a file that ends with more findings of a rule than it started
    # with (fixes that each passed, but not together) is put back as it was.
    worse = _worse(original, result.findings, set(done.files))
    for path, finding in sorted(worse.items()):
        before, written = done.files.pop(path)
        put_back(path, before, written)
        done.warnings.append(
            f"{path}: not fixed: its fixes together would add {finding.rule} '{finding.message}'"
        )
    if worse:
        result = make(Overlay(dict(overlay), frozenset()) if overlay else None).run(named)
    # What was fixed: per file and rule, the findings that are gone (a finding a
    # pass made and the next one fixed is not counted).
    had = Counter((f.path, f.rule) for f in original if f.path in done.files)
    left = Counter((f.path, f.rule) for f in result.findings if f.path in done.files)
    done.fixed = Counter()
    for (_, rule), n in (had - left).items():
        done.fixed[rule] += n
    done.left = len(wanted(result.findings, unsafe))
    if done.left and passes >= min(budget, MAX_TRIALS):
        done.warnings.append(
            f"stopped after {passes} passes: {done.left} fixable finding"
            f"{'s' if done.left != 1 else ''} left (run --fix again)"
        )
    return result, done


def restore(target: Path, before: str, written: str) -> str | None:
    """Put a file the fixer wrote back as it was, unless it changed since (an
    editor saved it): why not, or None."""
    try:
        real = target.resolve()
        if real.read_bytes() != written.encode("utf-8"):
            return "changed while it was being fixed: left as it is now"
        write_keeping_mode(real, before.encode("utf-8"))
    except OSError as exc:
        return f"could not be put back as it was ({exc.strerror or exc})"
    return None


def _worse(before: list[Finding], after: list[Finding], changed: set[str]) -> dict[str, Finding]:
    """Changed files with more findings of a rule than they had, with one of them."""
    had = Counter((f.path, f.rule) for f in before if f.path in changed)
    now = Counter((f.path, f.rule) for f in after if f.path in changed)
    extra = now - had
    found: dict[str, Finding] = {}
    for f in after:
        if (f.path, f.rule) in extra:
            found.setdefault(f.path, f)
    return found


def _ident(f: Finding) -> Ident:
    return (f.path, f.rule, f.message, f.line, f.column)


def _one_per_file(todo: list[Finding], single: set[str]) -> list[Finding]:
    """The fixes to try: all of them, but only the first of a file in `single`."""
    seen: set[str] = set()
    out = []
    for f in sorted(todo, key=Finding.sort_key):
        if f.path in single:
            if f.path in seen:
                continue
            seen.add(f.path)
        out.append(f)
    return out


def _added(
    before: list[Finding], after: list[Finding], changed: set[str], unsafe: bool
) -> dict[str, Finding]:
    """Changed files whose fixes added a finding the next pass cannot fix, with
    one such finding: a file that now has more findings of a rule without a
    fix than before (the next pass fixes the others). Counts, not messages,
    decide: a message may change with a fix, as a column does when a number is
    renumbered. A finding added to an unchanged file (a link into a fixed
    heading) is charged to every changed file."""
    fixable_before = {id(f) for f in wanted(before, unsafe)}
    had = Counter((f.path, f.rule) for f in before if id(f) not in fixable_before)
    fixable = {id(f) for f in wanted(after, unsafe)}
    now = Counter((f.path, f.rule) for f in after if id(f) not in fixable)
    extra = now - had
    if not extra:
        return {}
    found = {f.path: f for f in after if (f.path, f.rule) in extra and id(f) not in fixable}
    out = {path: f for path, f in found.items() if path in changed}
    elsewhere = [f for path, f in found.items() if path not in changed]
    if elsewhere:
        out.update({path: elsewhere[0] for path in changed if path not in out})
    return out


def fix_files(
    root: Path,
    findings: Iterable[Finding],
    hashes: dict[str, str],
    unsafe: bool = False,
    write: bool = True,
    read: Callable[[str], bytes | None] | None = None,
) -> FixPass:
    """Apply the fixes of `findings` (paths relative to `root`) to their files.
    `hashes`: what the linter read of each file (a changed file is skipped);
    `read`: the file's bytes when they are not the disk's (None: read the disk).
    Without `write` nothing is written, but a file that could not be written
    is left out all the same (so --diff shows what --fix does)."""
    result = FixPass()
    by_file: dict[str, list[Finding]] = {}
    for f in wanted(findings, unsafe):
        by_file.setdefault(f.path, []).append(f)
    seen: set[Path] = set()  # real files: two symlinks to one file fix it once
    for path, found in sorted(by_file.items()):
        target = root / path
        try:
            real = target.resolve()  # (a symlinked page: its file is fixed, the link kept)
            if real in seen:
                continue
            seen.add(real)
            given = read(path) if read is not None else None
            data = given if given is not None else real.read_bytes()
        except OSError as exc:
            result.warnings.append(f"{path}: not fixed: cannot read it ({exc.strerror or exc})")
            continue
        if path in hashes and content_hash(data) != hashes[path]:
            result.warnings.append(f"{path}: not fixed: it changed while it was being linted")
            continue
        refused = _unwritable(real)
        if refused:
            result.warnings.append(f"{path}: not fixed: {refused}")
            continue
        try:
            before = data.decode("utf-8")
        except UnicodeDecodeError:
            continue  # (never a page the linter read)
        if "\r" in before.replace("\r\n", ""):
            # Lines the parser breaks at a lone CR, the fixer would not: the
            # places would not agree.
            result.warnings.append(f"{path}: not fixed: it has line breaks that are a lone CR")
            continue
        after, applied = apply_fixes(before, [f.fix for f in found if f.fix is not None])
        if after == before:
            result.refused += [f for f, used in zip(found, applied, strict=True) if not used]
            continue
        if write:
            try:
                if given is None and real.read_bytes() != data:  # (saved meanwhile)
                    result.warnings.append(f"{path}: not fixed: it changed while being fixed")
                    continue
                write_keeping_mode(real, after.encode("utf-8"))
            except OSError as exc:
                result.warnings.append(
                    f"{path}: not fixed: cannot write it ({exc.strerror or exc})"
                )
                continue
        for finding, used in zip(found, applied, strict=True):
            if used:
                result.fixed[finding.rule] += 1
            else:
                result.refused.append(finding)
        result.files[path] = (before, after)
    return result


def _unwritable(real: Path) -> str | None:
    """Why the fixer must not replace this file, or None. Replacing works by a
    rename in the folder, which would also replace a file the user may not
    write (read-only, or someone else's): such files are left alone."""
    try:
        st = real.stat()
    except OSError as exc:
        return f"cannot read it ({exc.strerror or exc})"
    if not st.st_mode & 0o222:
        return "it is read-only"
    if not os.access(real, os.W_OK):
        return "it is not writable by you"
    if hasattr(os, "geteuid") and os.geteuid() != 0 and st.st_uid != os.geteuid():
        return "it belongs to another user"
    return None


def apply_fixes(text: str, fixes: list[Fix]) -> tuple[str, list[bool]]:
    """`text` with as many of `fixes` applied as do not overlap (in order), and
    which were."""
    lines = text.split("\n")
    bom = 1 if text.startswith(_BOM) else 0
    taken: dict[tuple[int, int, str, str, bool], tuple[int, int, int]] = {}
    applied: list[bool] = []
    for fix in fixes:
        edits = [e for e in fix.edits if not _blank_indent(lines, e)]
        spans = [_locate(lines, edit, bom) for edit in edits]
        if any(span is None for span in spans):
            applied.append(False)
            continue
        placed = [(_key(edit), span) for edit, span in zip(edits, spans, strict=True) if span]
        fresh = [(key, span) for key, span in placed if key not in taken]
        if any(_overlaps(span, other) for _, span in fresh for other in taken.values()):
            applied.append(False)
            continue
        for key, span in fresh:
            taken[key] = span
        applied.append(True)
    # Right to left, bottom to top: earlier positions stay valid.
    gone: set[int] = set()
    for key, (line, start, end) in sorted(taken.items(), key=lambda kv: kv[1], reverse=True):
        _, _, _, new, whole_line = key
        if whole_line and not new:
            gone.add(line)
        elif whole_line:  # the line's content replaced, its break and any BOM kept
            text = lines[line]
            head = _BOM if line == 0 and text.startswith(_BOM) else ""
            lines[line] = head + new + ("\r" if text.endswith("\r") else "")
        else:
            lines[line] = lines[line][:start] + new + lines[line][end:]
    gone |= _doubled_blanks(lines, gone)
    if not gone:
        return "\n".join(lines), applied
    kept = [text for i, text in enumerate(lines) if i not in gone]
    if len(lines) - 1 in gone and kept:
        # The file's last line, which had no line break after it, went: the
        # line now last loses its break (a CRLF's CR too), as the file had none.
        kept[-1] = kept[-1].removesuffix("\r")
    joined = "\n".join(kept)
    if bom and not joined.startswith(_BOM):  # the first line went: its BOM stays
        joined = _BOM + joined
    return joined, applied


def _doubled_blanks(lines: list[str], gone: set[int]) -> set[int]:
    """Blank lines left doubled by removed lines (a definition between two blank
    lines): the blank line after each removed run goes too, or the one before it
    when the run ended the file."""
    extra: set[int] = set()
    for index in sorted(gone):
        if index - 1 in gone:
            continue  # not the start of a run
        end = index
        while end + 1 in gone:
            end += 1
        before = index == 0 or not lines[index - 1].strip()
        after = end + 1
        # (the last piece, after the final line break, is not a line)
        if before and after < len(lines) - 1 and not lines[after].strip():
            extra.add(after)
        elif before and index > 0 and after == len(lines) - 1 and not lines[after]:
            extra.add(index - 1)  # the run ended the file: the blank line above it goes
    return extra


def _blank_indent(lines: list[str], edit: Edit) -> bool:
    """An indent for a blank line: a blank line needs none (and gets none, so the
    fix leaves no trailing white space)."""
    index = edit.line - 1
    return (
        not edit.whole_line
        and edit.column == 0
        and not edit.old.strip(" ")
        and not edit.new.strip(" ")
        and 0 <= index < len(lines)
        and not lines[index].strip()
    )


def _key(edit: Edit) -> tuple[int, int, str, str, bool]:
    return (edit.line, edit.column, edit.old, edit.new, edit.whole_line)


def _locate(lines: list[str], edit: Edit, bom: int) -> tuple[int, int, int] | None:
    """(0-based line, start, end) of the text an edit replaces, when it is there."""
    index = edit.line - 1
    if not 0 <= index < len(lines):
        return None
    if index == len(lines) - 1 and edit.whole_line and not edit.new and index == 0:
        return None  # (a file of one line: nothing to take the place of its break)
    line = lines[index]
    if edit.whole_line:
        content = line.removesuffix("\r")
        if index == 0:
            content = content.removeprefix(_BOM)
        return (index, 0, len(line)) if content == edit.old else None
    column = edit.column + (bom if index == 0 else 0)
    if not edit.old:  # an insertion
        return (index, column, column) if column <= len(line.removesuffix("\r")) else None
    if not line.startswith(edit.old, column):
        return None
    end = column + len(edit.old)
    if edit.after and not any(line[:column].endswith(a) for a in edit.after.split("|")):
        return None
    if edit.word and (
        (column > 0 and line[column - 1].isalnum()) or (end < len(line) and line[end].isalnum())
    ):
        return None
    if edit.column > 0 and _in_code_span(line, column):
        return None  # (the place was found by searching: it may be a copy in code)
    return index, column, end


def _in_code_span(line: str, column: int) -> bool:
    """`column` of `line` falls inside an inline code span (a run of backticks up
    to the next run of the same length)."""
    at = 0
    while True:
        start = line.find("`", at)
        if start < 0 or start >= column:
            return False
        run = start
        while run < len(line) and line[run] == "`":
            run += 1
        ticks = line[start:run]
        close = line.find(ticks, run)
        while close >= 0 and line.startswith("`", close + len(ticks)):
            close = line.find(ticks, close + len(ticks) + 1)
        if close < 0:
            at = run  # an unclosed run is literal backticks
            continue
        if column < close + len(ticks):
            return True
        at = close + len(ticks)


def _overlaps(a: tuple[int, int, int], b: tuple[int, int, int]) -> bool:
    """Two spans touch the same characters (a whole-line span is the line). An
    insertion overlaps what starts or ends where it goes: the order of the two
    would be a guess."""
    if a[0] != b[0]:
        return False
    if a[1] == a[2] or b[1] == b[2]:
        return a[1] <= b[2] and b[1] <= a[2]
    return a[1] < b[2] and b[1] < a[2]
