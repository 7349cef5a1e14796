"""The supervisor's restart rules, on real child processes (the whole `serve` is in test_serve)."""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable

import pytest

from diarist import supervisor
from diarist.supervisor import _Child, _watch

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]
CRASHER = [sys.executable, "-c", "raise SystemExit(3)"]


@pytest.fixture(autouse=True)
def _quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supervisor, "_BACKOFF_FIRST_S", 0.05)
    monkeypatch.setattr(supervisor, "_BACKOFF_MAX_S", 0.2)


def _started(name: str, command: list[str]) -> _Child:
    child = _Child(name, command, {})
    child.start()
    return child


def _watch_until(children: list[_Child], done: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, [child.state() for child in children]
        _watch(children)
        time.sleep(0.01)


def test_a_killed_child_is_restarted_and_the_others_are_untouched() -> None:
    worker, embedder = _started("worker", SLEEPER), _started("embedder", SLEEPER)
    children = [worker, embedder]
    try:
        first, other = worker.process, embedder.process
        assert first is not None
        assert not _watch(children), "nothing changed"
        first.send_signal(signal.SIGKILL)
        first.wait()
        assert _watch(children)
        state = worker.state()
        assert (state.state, state.pid, state.last_exit_code) == ("restarting", None, -9)
        _watch_until(children, lambda: worker.state().state == "running")
        assert worker.process is not first
        assert worker.process is not None
        assert worker.process.poll() is None
        assert worker.state().restarts == 1
        assert embedder.process is other
        assert embedder.state().restarts == 0
    finally:
        supervisor._stop_children(children)


def test_a_crash_loop_backs_off_up_to_the_cap() -> None:
    crasher = _started("worker", CRASHER)
    try:
        backoffs = []
        _watch_until([crasher], lambda: crasher.restarts >= 4)
        for _ in range(3):
            _watch_until([crasher], lambda: crasher.restart_at is not None)
            backoffs.append(crasher.backoff_s)
            _watch_until([crasher], lambda: crasher.restart_at is None)
        assert backoffs == [0.2, 0.2, 0.2], "doubled from 0.05 to the cap and stays there"
        assert crasher.state().last_exit_code == 3
    finally:
        supervisor._stop_children([crasher])


def test_a_child_that_stayed_up_starts_its_backoff_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supervisor, "_STEADY_S", 0.0)
    child = _started("worker", CRASHER)
    child.backoff_s = 0.2  # as after a crash loop
    try:
        _watch_until([child], lambda: child.restart_at is not None)
        assert child.backoff_s == 0.05
    finally:
        supervisor._stop_children([child])
