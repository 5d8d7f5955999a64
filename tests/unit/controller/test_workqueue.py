"""The work queue: de-duplication, one worker per key, re-run after a concurrent add, back-off."""

from __future__ import annotations

import threading
import time

from controller.pipeline.workqueue import WorkQueue


def test_duplicate_adds_collapse() -> None:
    queue: WorkQueue[str] = WorkQueue()
    for key in ("a", "b", "a", "a"):
        queue.add(key)
    assert [queue.get(0), queue.get(0), queue.get(0)] == ["a", "b", None]


def test_a_key_added_while_processing_runs_again_after_done() -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.add("a")
    assert queue.get(0) == "a"
    queue.add("a")
    assert queue.get(0) is None  # not handed to a second worker while the first has it
    queue.done("a")
    assert queue.get(0) == "a"


def test_retry_backs_off_exponentially_and_forget_resets() -> None:
    queue: WorkQueue[str] = WorkQueue(base_delay=0.01, max_delay=0.04)
    assert [queue.retry("a") for _ in range(4)] == [0.01, 0.02, 0.04, 0.04]
    queue.forget("a")
    assert queue.retry("b") == 0.01


def test_delayed_keys_arrive_when_due() -> None:
    queue: WorkQueue[str] = WorkQueue()
    started = time.monotonic()
    queue.add_after("late", 0.05)
    assert queue.get(0) is None
    assert queue.get(1) == "late"
    assert time.monotonic() - started >= 0.05


def test_close_releases_waiting_workers() -> None:
    queue: WorkQueue[str] = WorkQueue()
    results: list[str | None] = []
    worker = threading.Thread(target=lambda: results.append(queue.get()))
    worker.start()
    queue.close()
    worker.join(2)
    assert results == [None]


def test_urgent_keys_are_served_before_the_backlog_in_their_own_order() -> None:
    queue: WorkQueue[tuple[str, str]] = WorkQueue(urgent=lambda key: key[0] != "AIMService")
    for i in range(3):
        queue.add(("AIMService", f"s{i}"))
    queue.add(("AIMTemplateCache", "c"))
    queue.add(("AIMArtifact", "a"))
    order = [queue.get(0) for _ in range(5)]
    assert order == [
        ("AIMTemplateCache", "c"),
        ("AIMArtifact", "a"),
        ("AIMService", "s0"),
        ("AIMService", "s1"),
        ("AIMService", "s2"),
    ]
