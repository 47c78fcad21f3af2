"""The audit chain's verification state for the console's audit pages.

A full walk of the chain takes seconds at a million entries, far too long for a page view. The
console keeps the result of its last walk and when it ran; a page shows that (never a result it
does not have) and, when the walk is older than `console_verify_every_s`, starts the next one in
the background. The first view after start-up walks the chain before it answers, and a compliance
officer can ask for a walk now.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from govlake.context import Verification


@dataclass
class ChainState:
    verification: Verification
    checked_at: datetime  # when the walk that produced `verification` started
    walking: bool  # a newer walk is under way


class ChainWatch:
    def __init__(self, verify: Callable[[], Verification], every_s: float, clock: Callable[[], datetime]):
        self._verify, self._every_s, self._clock = verify, every_s, clock
        self._lock, self._first = threading.Lock(), threading.Lock()
        self._last: tuple[Verification, datetime] | None = None
        self._thread: threading.Thread | None = None

    def _walk(self) -> tuple[Verification, datetime]:
        started = self._clock()
        try:
            verification = self._verify()
        except Exception as exc:  # noqa: BLE001 - the page must say the chain could not be checked, not keep the old verdict
            verification = Verification(False, 0, None, f"the chain could not be walked: {type(exc).__name__}")
        with self._lock:
            if self._last is None or self._last[1] <= started:
                self._last = (verification, started)
        return verification, started

    def now(self) -> ChainState:
        """Walk the chain now and return the result."""
        verification, at = self._walk()
        return ChainState(verification, at, self.walking)

    @property
    def walking(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def state(self) -> ChainState:
        with self._first:  # the first views after start-up wait for one walk, not one each
            if self._last is None:
                self._walk()
        with self._lock:
            verification, at = self._last
            if (self._clock() - at).total_seconds() >= self._every_s and not self.walking:
                self._thread = threading.Thread(target=self._walk, name="audit-chain-walk", daemon=True)
                self._thread.start()
        return ChainState(verification, at, self.walking)
