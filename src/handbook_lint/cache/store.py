"""Page facts for the engine: from memory, from the cache, or parsed (in worker
processes when there are many pages to parse)."""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections import OrderedDict
from collections.abc import Iterator, Sequence, Set
from pathlib import Path

from handbook_lint import __version__
from handbook_lint.cache import codec
from handbook_lint.cache.ahead import AHEAD_MAX, Ahead, Items
from handbook_lint.cache.sqlite import Cache
from handbook_lint.engine.progress import Progress
from handbook_lint.engine.workers import in_workers
from handbook_lint.names import is_utf8
from handbook_lint.parsing.facts import PageFacts, PageSummary, summarize
from handbook_lint.parsing.markdown import (
    ParseSettings,
    Unreadable,
    decode_page,
    load_parser,
    parse_page,
    read_capped,
    read_page_bytes,
)
from handbook_lint.site.model import MARKDOWN_SUFFIXES
from handbook_lint.site.overlay import Overlay
from handbook_lint.walk import Listings, settled_before

PARALLEL_MIN = 64  # fewer pages than this are parsed in-process
CHUNK = 32
# Decoded facts kept at once. Every page's facts stay encoded (a tenth of the
# size); the decoded ones of the pages in use (the page checked, its includes,
# those of a few pages before it) are kept: 4,600 pages decoded all at once
# were 190 MB of a cold run's 276.
FACTS_KEPT = 256
# A snapshot is written again when it lacks this many of the summaries a run
# used (not for every commit: a page it lacks costs one row's read).
SNAPSHOT_STALE = 32
# Snapshot summaries whose anchors and links are read from their own rows, one
# query each; beyond this many, every row is read at once.
DETAILS_EACH_MAX = 64
LISTINGS = "folders"  # the snapshot of the folders' listings (snapshot keys are otherwise
# the parse settings' key: a version, a number and a repr, never this word)

# One parsed file: (path, why it is unreadable, encoded facts, encoded summary,
# the content hash of the very bytes parsed)
Parsed = tuple[str, Unreadable | None, bytes | None, bytes | None, str | None]
CANNOT_READ: Unreadable = ("cannot read file", 1)
INTERNAL = "handbook-lint failed on this file"


def _stamp(st: os.stat_result) -> tuple[int, int, int]:
    """What a file's state vouches with: its size, modification time and inode."""
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def _vouched(state: tuple[int, int, int, str] | None, stamp: tuple[int, int, int]) -> str | None:
    """The hash the cache's state of a file gives when its size, time and inode
    are `stamp`'s; None when they are not, or the row is damaged (its hash no
    string): the file is hashed again."""
    if state is not None and state[:3] == stamp and isinstance(state[3], str):
        return state[3]
    return None


def internal_error(exc: BaseException, where: str = "") -> str:
    """The message of an `internal-error` finding (see checks/files.py)."""
    what = f"{type(exc).__name__}: {exc}"[:300]
    return f"{INTERNAL}{where} ({what}): this is a bug, please report it with the file"


_WORKER: tuple[Path, ParseSettings, tuple[str, ...]] | None = None


def _init_worker(root: Path, settings: ParseSettings, taxonomies: tuple[str, ...]) -> None:
    global _WORKER
    _WORKER = (root, settings, taxonomies)


def parse_file(
    root: Path,
    path: str,
    settings: ParseSettings,
    taxonomies: tuple[str, ...],
    data: bytes | None = None,
) -> Parsed:
    """Parse one file: from disk, or from `data` (its bytes as they were in git).
    The bytes are read once, and their hash goes with the facts: a file edited
    between its hashing and its parsing has its facts stored under the hash of
    what was parsed, never another version's."""
    if data is None:
        data, error = read_page_bytes(root / path)
        if data is None:
            return path, error or CANNOT_READ, None, None, None
    digest = content_hash(data)
    text, error = decode_page(data)
    if text is None:
        return path, error or CANNOT_READ, None, None, digest
    try:
        facts = parse_page(text, path, settings)
        summary = codec.encode_summary(summarize(facts, taxonomies))
        return path, None, codec.encode(facts), summary, digest
    except MemoryError:
        raise
    except Exception as exc:  # a bug (or a limit) of ours, not the page's fault: said on it
        return path, (internal_error(exc), 1), None, None, digest


def _parse_chunk(paths: list[str]) -> list[Parsed]:
    assert _WORKER is not None
    root, settings, taxonomies = _WORKER
    return [parse_file(root, p, settings, taxonomies) for p in paths]


def file_hash(path: Path) -> str | None:
    """The file's content hash (None: it cannot be read as a page, and parsing
    will say why)."""
    try:
        data = read_capped(path)
    except OSError:
        return None
    return content_hash(data) if data is not None else None


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class FactStore:
    def __init__(
        self,
        root: Path,
        settings: ParseSettings,
        taxonomies: tuple[str, ...],
        cache: Cache | None,
        jobs: int,
        progress: bool = False,
        overlay: Overlay | None = None,
    ) -> None:
        self.root = root
        self.overlay = overlay  # files whose bytes come from git (see overlay.py)
        self._root = str(root)
        self.settings = settings
        # Every parse setting is in the key: facts parsed otherwise are not reused.
        self.key = f"{__version__}|{codec.FORMAT}|{settings!r}|{','.join(taxonomies)}"
        self.taxonomies = taxonomies
        self.cache = cache
        self.jobs = max(1, jobs)
        self.progress = progress
        self.hashes: dict[str, str] = {}
        self.summaries: dict[str, PageSummary | None] = {}
        self.errors: dict[str, Unreadable] = {}
        self._blobs: dict[str, bytes] = {}
        self._facts: OrderedDict[str, PageFacts | None] = OrderedDict()  # the last used
        self._new_files: list[tuple[str, int, int, int, str]] = []
        self._new_entries: list[tuple[str, str, str, bytes, bytes]] = []
        self.parsed = 0  # pages parsed in this run (not from the cache)
        self.damaged = 0  # cached summaries that did not decode (parsed again)
        self._states: dict[str, tuple[int, int, int, str]] | None = None  # the cache's files
        self._hashed: set[str] = set()  # paths hashed by hash_files (not again by prepare)
        # Files whose bytes parsed hashed otherwise than the run's hash of them
        # (changed meanwhile): the run's result is then not kept (see Linter._run).
        self.revised = 0
        self._stamps: dict[str, tuple[int, int, int]] = {}  # (size, time, inode) when hashed
        self._settled = settled_before()
        self._cached: dict[tuple[str, str], bytes] | None = None  # its summaries, by (path, hash)
        # The last snapshot's summaries (all pages at once), and whether this run
        # should write a new one (it parsed, or found pages the snapshot lacks).
        self._snapshot: dict[tuple[str, str], PageSummary] | None = None
        self._stale = 0  # summaries it lacked (SNAPSHOT_STALE of them: write a new one)
        self._listings: Listings | None = None
        self._details_read = 0  # snapshot summaries whose anchors and links were read
        # Pages parsed on other cores meanwhile (ahead.py): a kept site's run may
        # have begun one before the run knew what it would need (resident.py).
        self.aheads: list[Ahead] = []

    def before(self, overlay: Overlay) -> FactStore:
        """A store for the site as it was before a change: what this one knows of
        the files the change did not touch is shared, the rest is read from
        `overlay`."""
        other = self.sharing(overlay, overlay.files.keys() | overlay.absent)
        other.aheads = self.aheads  # (same settings: the versions before may be parsed there)
        return other

    def sharing(
        self,
        overlay: Overlay | None,
        drop: Set[str],
        jobs: int | None = None,
        progress: bool | None = None,
    ) -> FactStore:
        """A store of the same cache and settings (`overlay`: its view) that
        knows what this one knows of every file but those in `drop`: their
        hashes, summaries, errors and facts, and the cache's states, snapshot
        and listings as read."""
        other = FactStore(
            self.root,
            self.settings,
            self.taxonomies,
            self.cache,
            self.jobs if jobs is None else jobs,
            self.progress if progress is None else progress,
            overlay,
        )
        # Whole copies, less what is dropped (copying thousands of entries one
        # by one cost a fifth of what a kept site saves: resident.py).
        other.hashes, other.summaries = dict(self.hashes), dict(self.summaries)
        other.errors, other._blobs = dict(self.errors), dict(self._blobs)
        other._facts = OrderedDict(self._facts)
        for known in (other.hashes, other.summaries, other.errors, other._blobs, other._facts):
            for path in drop & known.keys():
                del known[path]
        other._states, other._cached = self._states, self._cached
        other._snapshot = self._snapshot
        other._listings = self._listings
        return other

    # -- bulk preparation ---------------------------------------------------

    def prepare(self, paths: list[str]) -> None:
        """Summaries of every path: cached where the content is unchanged, parsed
        otherwise (in parallel when there are many)."""
        todo = [p for p in dict.fromkeys(paths) if p not in self.summaries and p not in self.errors]
        if not todo:
            return
        states = self._file_states()
        if self._snapshot is None:  # read once per run: later single lookups reuse it
            self._snapshot = self._read_snapshot()
        snapshot = self._snapshot
        to_parse: list[str] = []
        if self.cache is None and self.overlay is None:
            # Nothing to look a hash up in: each file is hashed as it is parsed
            # (hashing it first read every page twice in a run without a cache).
            todo, to_parse = [], todo
        for path in todo:
            digest = self.hashes[path] if path in self._hashed else self._digest(path, states)
            if digest is None:
                to_parse.append(path)  # parsing reports why it cannot be read
                continue
            summary = snapshot.get((path, digest))
            if summary is not None:
                summary = codec.bound(summary, self._details)
            else:
                summary = self._cached_summary(path, digest)
            if summary is not None and summary.path == path:
                self.summaries[path] = summary
            else:
                to_parse.append(path)
        for parsed in self._parse_many(to_parse):
            self._record(parsed)

    def parse_ahead(self, paths: list[str], versions: Sequence[tuple[str, bytes]] = ()) -> None:
        """Start parsing on other cores (ahead.py) a short run's pages (the
        Markdown files of `paths`), and in a lane of their own those of
        `versions` (a page's bytes from git, for the store of the site before a
        change) the cache lacks. Only with a cache (else every page is parsed, by worker
        processes) and more than one job. Whether a page on disk changed is not
        asked first (reading the file states took a third of the time the child
        has): the run waits only for the page a lane is on, and the child is
        killed at the end of the run. Pages on disk that one begun before is
        parsing are left to it."""
        if self.jobs < 2 or self.cache is None:
            return
        pages = [p for p in dict.fromkeys(paths) if p.endswith(MARKDOWN_SUFFIXES)]
        versions = [(p, data) for p, data in versions if p.endswith(MARKDOWN_SUFFIXES)]
        if len(pages) + len(versions) > AHEAD_MAX:
            return
        lacked: Items = [
            (path, data)
            for path, data in versions
            if not self.cache.has_facts(path, content_hash(data), self.key)
        ]
        begun = {path for ahead in self.aheads for path in ahead.on_disk}
        now = [(path, self._git_bytes(path)) for path in pages]
        now = [(path, data) for path, data in now if data is not None or path not in begun]
        ahead = Ahead.start(self.root, self.settings, self.taxonomies, now, lacked)
        if ahead is not None:
            self.aheads.append(ahead)

    def hash_files(self, paths: list[str]) -> bool:
        """The content hash of each of `paths` (`hashes`), from the cache's file
        states where a file's size, time and inode are unchanged, without
        reading any summary. True when every one has a hash (a file that cannot
        be read is known only once it is parsed)."""
        states = self._file_states()
        every = True
        hashed, hashes, stamps = self._hashed, self.hashes, self._stamps
        from_git = self.overlay.files if self.overlay is not None else {}
        stat, prefix = os.stat, f"{self._root}/"
        for path in dict.fromkeys(paths):
            if path in hashed:
                continue
            state = states.get(path)
            if state is not None and path not in from_git:
                # What `_digest` does for a file as the cache knows it, inline:
                # thousands of files a run, most of them unchanged.
                try:
                    st = stat(prefix + path)
                except OSError:
                    st = None
                if st is not None:
                    stamp = _stamp(st)
                    known = _vouched(state, stamp)
                    if known is not None:
                        stamps[path], hashes[path] = stamp, known
                        hashed.add(path)
                        continue
            if self._digest(path, states) is None:
                every = False
            else:
                self._hashed.add(path)
        return every

    def hashed_anew(self) -> bool:
        """Whether a file was hashed from its bytes in this run (its size, time or
        inode was not the cache's)."""
        return bool(self._new_files)

    def changed_on_disk(self) -> bool:
        """Whether a file this run hashed on disk has another size, time or inode
        now (what check workers read of it may not be what was hashed)."""
        for path, stamp in self._stamps.items():
            st = self._stat(path)
            if st is None or _stamp(st) != stamp:
                return True
        return False

    def _stat(self, path: str) -> os.stat_result | None:
        try:
            return os.stat(f"{self._root}/{path}")  # a string join: no Path per file
        except OSError:
            return None

    def _file_states(self) -> dict[str, tuple[int, int, int, str]]:
        if self._states is None:  # read once per run
            self._states = self.cache.file_states() if self.cache else {}
        return self._states

    def _read_snapshot(self) -> dict[tuple[str, str], PageSummary]:
        blob = self.cache.snapshot(self.key) if self.cache else None
        if blob is not None:
            try:
                return codec.decode_snapshot(blob, self._details)
            except codec.DecodeError:
                self.damaged += 1  # (a new one is written: the summaries are in their rows)
        self._stale = SNAPSHOT_STALE if self.cache is not None else 0
        return {}

    def _details(self, path: str, digest: str) -> codec.Details:
        """The anchor events and links of a summary from the snapshot, read when
        first needed: from its file version's row (every row at once, when more
        than DETAILS_EACH_MAX are needed), else parsed again (a row lost or
        damaged, which a run stores anew: not one of its check workers)."""
        self._details_read += 1
        many = self._details_read > DETAILS_EACH_MAX
        if self.cache is not None and self._cached is None and many:
            self._cached = self.cache.summaries(self.key)
        if self._cached is not None:
            blob = self._cached.get((path, digest))
        else:
            blob = self.cache.summary(path, digest, self.key) if self.cache else None
        if blob is not None:
            try:
                found = codec.decode_summary(blob)
                if found.path == path:
                    return found.anchor_events, found.links
            except codec.DecodeError:
                pass
            self.damaged += 1
        (_, _, facts, summary, parsed_digest), _ = self._parse_again(path, digest, keep=True)
        if summary is None or facts is None:
            return [], []  # (the file went: what links to it finds no anchor)
        if parsed_digest == digest:  # (its facts too: not parsed again to be checked)
            self._blobs[path] = facts
        parsed = codec.decode_summary(summary)
        return parsed.anchor_events, parsed.links

    def _parse_again(self, path: str, digest: str | None, keep: bool) -> tuple[Parsed, bool]:
        """`path` parsed again, its cached facts lost or damaged, and whether they
        were stored anew (when `keep`, the bytes are those hashed, `digest`, and
        not git's). Other bytes than those hashed (the file changed meanwhile)
        mean this run's result is not kept (`revised`)."""
        parsed = self._parse_one(path)
        _, _, facts, summary, got = parsed
        if digest is not None and got != digest:
            self.revised += 1
        if (
            keep
            and got is not None
            and got == digest
            and facts is not None
            and summary is not None
            and self._git_bytes(path) is None  # (versions from git are not kept)
        ):
            self._new_entries.append((path, got, self.key, summary, facts))
            return parsed, True
        return parsed, False

    def _cached_summary(self, path: str, digest: str) -> PageSummary | None:
        """A summary the snapshot lacks, from its own row (a page another run
        parsed since, or the first run after an upgrade)."""
        if self.cache is None or not is_utf8(path):  # (never stored: see flush)
            return None
        if self._cached is None and self._stale >= SNAPSHOT_STALE:
            self._cached = self.cache.summaries(self.key)  # (many to read: all at once)
        if self._cached is not None:
            blob = self._cached.get((path, digest))
        else:
            blob = self.cache.summary(path, digest, self.key)
        if blob is None:
            return None
        self._stale += 1
        try:
            return codec.decode_summary(blob)
        except codec.DecodeError:
            self.damaged += 1  # parsed again, and stored again
            return None

    def _digest(self, path: str, states: dict[str, tuple[int, int, int, str]]) -> str | None:
        from_git = self._git_bytes(path)
        if from_git is not None:
            digest = self.hashes[path] = content_hash(from_git)
            return digest
        st = self._stat(path)
        if st is None:
            return None
        stamp = self._stamps[path] = _stamp(st)
        known = _vouched(states.get(path), stamp)
        if known is not None:
            digest = known
        else:
            hashed = file_hash(self.root / path)
            if hashed is None:
                return None
            digest = hashed
            self._new_files.append(self._state_row(path, st, digest))
        self.hashes[path] = digest
        return digest

    def _state_row(
        self, path: str, st: os.stat_result, digest: str
    ) -> tuple[str, int, int, int, str]:
        """A file's state to store. One changed within RACY_SECONDS of this run
        (an edit in the same tick of the clock after it was read would leave its
        time as it was) is stored with a size no file has: the next run hashes
        it again, as git's index does with its racy entries."""
        size = st.st_size if max(st.st_mtime_ns, st.st_ctime_ns) < self._settled else -1
        return (path, size, st.st_mtime_ns, st.st_ino, digest)

    def _correct_state(self, path: str, digest: str) -> None:
        """The bytes parsed hash otherwise than the cache said, and the file's
        size, time and inode are still those the cache holds: its hash there was
        damaged (a page edited meanwhile has another time, and is hashed anew by
        the next run). Stored right, or it would be parsed again every run."""
        state = (self._states or {}).get(path)
        st = self._stat(path)
        if st is not None and state is not None and state[:3] == _stamp(st):
            self._new_files.append(self._state_row(path, st, digest))
            self.damaged += 1

    def _git_bytes(self, path: str) -> bytes | None:
        return self.overlay.files.get(path) if self.overlay is not None else None

    def _parse_one(self, path: str) -> Parsed:
        data = self._git_bytes(path)
        for ahead in self.aheads:  # (parsed ahead, if of the very bytes hashed)
            parsed = ahead.take(path, self.hashes.get(path), data is not None)
            if parsed is not None:
                return parsed
        return parse_file(self.root, path, self.settings, self.taxonomies, data)

    def _parse_many(self, paths: list[str]) -> Iterator[Parsed]:
        if self.overlay is not None:  # files from git are parsed here, the rest as usual
            for path in [p for p in paths if p in self.overlay.files]:
                yield self._parse_one(path)
            paths = [p for p in paths if p not in self.overlay.files]
        if not paths:
            return
        bar = Progress("parsing", self.progress)
        total, done = len(paths), 0
        if self.jobs == 1 or len(paths) < PARALLEL_MIN:
            for path in paths:
                yield self._parse_one(path)
                done += 1
                bar.update(done, total)
        else:
            load_parser()
            for results in in_workers(
                _parse_chunk,
                paths,
                CHUNK,
                self.jobs,
                bar,
                _init_worker,
                (self.root, self.settings, self.taxonomies),
                "fork" if os.name == "posix" else "spawn",
            ):
                yield from results
        bar.close()

    def _record(self, parsed: Parsed) -> None:
        path, error, blob, summary, parsed_digest = parsed
        self.parsed += 1
        if parsed_digest is not None and self._git_bytes(path) is None:
            known = self.hashes.get(path)
            if known is not None and known != parsed_digest:
                self._correct_state(path, parsed_digest)
                self.revised += 1
            self.hashes[path] = parsed_digest  # (what was parsed, if it changed since)
        if error is not None or blob is None or summary is None:
            self.errors[path] = error or CANNOT_READ
            self.summaries[path] = None
            return
        self._blobs[path] = blob
        self.summaries[path] = codec.decode_summary(summary)
        digest = self.hashes.get(path)
        if digest is not None and self._git_bytes(path) is None:  # versions from git are not kept
            self._new_entries.append((path, digest, self.key, summary, blob))

    # -- single lookups -------------------------------------------------------

    def summary(self, path: str) -> PageSummary | None:
        if path not in self.summaries and path not in self.errors:
            self.prepare([path])
        return self.summaries.get(path)

    def load(self, path: str) -> PageFacts | None:
        """Full facts of one file (decoded on demand: most runs need few)."""
        if path in self._facts:
            self._facts.move_to_end(path)
            return self._facts[path]
        if path not in self.summaries and path not in self.errors:
            self.prepare([path])
        facts: PageFacts | None = None
        blob = self._blobs.get(path)
        damaged = lost = False
        if blob is None and self.cache is not None and path in self.hashes:
            blob = self.cache.facts(path, self.hashes[path], self.key)
            # (its summary came from that row: no facts there is damage too)
            # (a summary from the snapshot may outlive its row: a page reverted
            # to a version whose facts a later write dropped is a plain miss)
            known = self.summaries.get(path)
            lost = blob is None and known is not None and self._git_bytes(path) is None
            damaged = lost and known is not None and not codec.from_snapshot(known)
        if blob is not None:
            try:
                facts = codec.decode(blob)
            except codec.DecodeError:
                facts = None
            if facts is not None and facts.path != path:  # (another page's entry)
                facts = None
            lost = damaged = facts is None
        if facts is None and path not in self.errors:
            (_, error, blob, _, _), stored = self._parse_again(path, self.hashes.get(path), lost)
            if blob is None:
                self.errors[path] = error or CANNOT_READ
            else:
                facts = codec.decode(blob)
                self._blobs[path] = blob  # (not parsed again when it is needed again)
                # Stored anew (it was parsed again on every run, and silently).
                self.damaged += int(stored and damaged)
        self._facts[path] = facts
        if len(self._facts) > FACTS_KEPT:
            self._facts.popitem(last=False)
        return facts

    def reopen_cache(self) -> None:
        """In a forked worker: a connection of its own (the parent's is left alone)."""
        if self.cache is not None:
            self.cache.reopen()

    def error(self, path: str) -> Unreadable | None:
        """Why a file cannot be linted, and the line where it goes wrong."""
        return self.errors.get(path)

    def flush(self, result: tuple[str, bytes] | None = None) -> None:
        for ahead in self.aheads:
            ahead.stop()  # (what it has not been asked for is not needed)
        if self.cache is not None and self.damaged:
            self.cache.warn(
                f"{self.damaged} cache entr{'y was' if self.damaged == 1 else 'ies were'} "
                "damaged: those pages were parsed again and stored anew"
            )
            self.damaged = 0
        if self.cache is not None:
            # A file name that is not UTF-8 (`bad\xff.md`) cannot be a key of the
            # SQLite text columns: such a file is parsed again each run instead.
            files = [row for row in self._new_files if is_utf8(row[0])]
            entries = [row for row in self._new_entries if is_utf8(row[0])]
            snapshots = [self._new_snapshot(), self._new_listings()]
            self.cache.write(files, entries, result, [s for s in snapshots if s is not None])
        self._new_files, self._new_entries = [], []

    def listings(self) -> Listings | None:
        """The folder listings of the last run (walk.py), read once; None
        without a cache. Damaged, they are listed again."""
        if self.cache is None:
            return None
        if self._listings is None:
            known = None
            blob = self.cache.snapshot(LISTINGS)
            with contextlib.suppress(codec.DecodeError):
                value = codec.unseal(blob) if blob is not None else None
                if isinstance(value, tuple) and len(value) == 2 and value[0] == codec.FORMAT:
                    known = value[1] if isinstance(value[1], dict) else None
            self._listings = Listings(known)
        return self._listings

    def _new_listings(self) -> tuple[str, bytes] | None:
        """The folders as this run listed them, when they differ from the last run's
        (a store of the site before a change keeps those of the site now)."""
        if self._listings is None or self.overlay is not None or not self._listings.changed():
            return None
        self._listings.known = dict(self._listings.walked)
        return LISTINGS, codec.seal((codec.FORMAT, self._listings.known))

    def _new_snapshot(self) -> tuple[str, bytes] | None:
        """Every page's summary as this run saw the site, when it differs from the
        snapshot read (something was parsed, or read from its own row)."""
        if self._stale + len(self._new_entries) < SNAPSHOT_STALE or self.overlay is not None:
            return None  # (a store with files from git sees a version of the site)
        self._stale = 0
        current = {
            (path, self.hashes[path]): summary
            for path, summary in self.summaries.items()
            if summary is not None and path in self.hashes and is_utf8(path)
        }
        return self.key, codec.encode_snapshot(current)
