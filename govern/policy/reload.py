"""Hot reload: watch a bundle directory and swap a changed bundle in atomically.

``Governor.reload`` does the swap: the new bundle is loaded and validated
completely before one reference assignment makes it current; a request in
flight keeps the bundle it started with; if the new bundle fails to load the
old one stays in force; each attempt is written to the audit trail with the
bundle hash in force. ``BundleWatcher`` polls the directory and calls it when
the files change, retrying a failed version only once it changes again (an
editor saving files one by one produces a broken intermediate state that
simply fails and is retried on the next change).

A file caught while it is being written can be a valid, shorter bundle (a
rules.yaml cut before its masks loads fine), so the watcher reloads only a
version that has *settled*: the same content hash and the same size and
mtime of every file on two consecutive polls (one interval apart), and the
bundle loaded must be exactly that version. Writing bundles atomically
(write elsewhere, then rename) avoids the question altogether.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from govern.bundle.loader import UNHASHED_DIRS, content_hash
from govern.errors import PolicyLoadError

log = logging.getLogger("govern.policy.reload")


@dataclass(frozen=True)
class PollResult:
    changed: bool  # the files differ from the bundle in force
    reloaded: bool  # a new bundle is now in force
    bundle_hash: str  # the hash in force after the poll
    problems: tuple[str, ...] = ()
    settling: bool = False  # changed since the previous poll: reloaded once it stays the same for one poll


def fingerprint(directory: Path) -> tuple:
    """The content hash plus (path, size, mtime_ns) of every policy file: equal twice in a row = settled."""
    stats = tuple(sorted((p.relative_to(directory).as_posix(), st.st_size, st.st_mtime_ns)
                         for p in directory.rglob("*") if p.is_file() and not UNHASHED_DIRS & set(p.relative_to(directory).parts)
                         for st in (p.stat(),)))
    return content_hash(directory), stats


class BundleWatcher:
    def __init__(self, gov, directory: str | Path | None = None, interval: float = 1.0):
        self.gov = gov
        self.directory = Path(directory) if directory is not None else Path(gov.bundle.path)
        self.interval = interval
        self._failed_hash: str | None = None
        self._pending: tuple | None = None  # the changed version seen by the previous poll
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def poll(self) -> PollResult:
        """Reload when the directory differs from the bundle in force and has settled since the previous poll."""
        with self._lock:
            current = self.gov.bundle.content_hash
            try:
                seen = fingerprint(self.directory)
            except OSError as err:  # a file vanished mid-scan: try again next time
                self._pending = None
                return PollResult(False, False, current, (str(err),))
            on_disk = seen[0]
            if on_disk == current or on_disk == self._failed_hash:
                self._pending = None
                return PollResult(on_disk != current, False, current)
            if seen != self._pending:
                self._pending = seen  # new since the last poll: an editor may still be writing
                return PollResult(True, False, current, settling=True)
            self._pending = None
            try:
                new = self.gov.reload(self.directory, expected_hash=on_disk)
            except PolicyLoadError as err:
                self._failed_hash = on_disk
                log.warning("bundle %s did not load; %s stays in force: %s", self.directory, current, err.problems)
                return PollResult(True, False, current, tuple(err.problems))
            self._failed_hash = None
            return PollResult(True, True, new.content_hash)

    def start(self) -> BundleWatcher:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="govern-bundle-watcher", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.poll()
            except Exception:  # the watcher must outlive any one bad poll
                log.exception("bundle watcher poll failed")

    def __enter__(self) -> BundleWatcher:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
