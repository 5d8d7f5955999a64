"""Fault injection shared by the test servers: rules the test sets over HTTP, matched on the
request's user agent and path, and a log of the requests with the bytes each was sent.

* fail: answer `status` instead of the content;
* stall: send `after_bytes` of the body, then nothing (the connection stays open);
* throttle: send at most `bytes_per_second`.

Admin endpoints (both servers): `PUT /_test/faults` (a JSON list of rules), `GET /_test/requests`,
`POST /_test/reset` (no rules, empty log).
"""

from __future__ import annotations

import threading
import time
from typing import Literal

from pydantic import BaseModel

ADMIN_PREFIX = "/_test/"


class Rule(BaseModel):
    action: Literal["fail", "stall", "throttle"]
    user_agent: str | None = None
    """Substring of the User-Agent the rule applies to; any when unset."""
    path: str | None = None
    """Substring of the path the rule applies to; any when unset."""
    methods: list[str] = ["GET"]
    status: int = 503
    after_bytes: int = 0
    bytes_per_second: int = 0
    times: int | None = None
    """How many requests the rule applies to; always when unset."""


class RequestRecord(BaseModel):
    method: str
    path: str
    user_agent: str
    range: str | None
    status: int = 0
    bytes_sent: int = 0
    fault: str | None = None


class FaultState:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.rules: list[Rule] = []
        self.requests: list[RequestRecord] = []

    def set_rules(self, rules: list[Rule]) -> None:
        with self._lock:
            self.rules = list(rules)

    def reset(self) -> None:
        with self._lock:
            self.rules = []
            self.requests = []

    def begin(
        self, method: str, path: str, user_agent: str, range_header: str | None
    ) -> tuple[RequestRecord, Rule | None]:
        record = RequestRecord(method=method, path=path, user_agent=user_agent, range=range_header)
        with self._lock:
            self.requests.append(record)
            for rule in self.rules:
                if method not in rule.methods:
                    continue
                if rule.user_agent is not None and rule.user_agent not in user_agent:
                    continue
                if rule.path is not None and rule.path not in path:
                    continue
                if rule.times is not None:
                    if rule.times <= 0:
                        continue
                    rule.times -= 1
                record.fault = rule.action
                return record, rule
        return record, None

    def snapshot(self) -> list[dict[str, object]]:
        with self._lock:
            return [r.model_dump() for r in self.requests]


class Pacer:
    """How much of the body may go now, for a stalled or throttled response."""

    def __init__(self, rule: Rule | None):
        self.rule = rule
        self.sent = 0
        self.started = time.monotonic()

    def allowance(self, wanted: int) -> int:
        """Bytes to send next (0 = stall forever)."""
        rule = self.rule
        if rule is None or rule.action == "fail":
            return wanted
        if rule.action == "stall":
            return max(0, min(wanted, rule.after_bytes - self.sent))
        return min(wanted, max(1, rule.bytes_per_second // 20))

    def delay(self, sent_now: int) -> float:
        """Seconds to wait after sending `sent_now` bytes."""
        self.sent += sent_now
        rule = self.rule
        if rule is None or rule.action != "throttle" or rule.bytes_per_second <= 0:
            return 0.0
        due = self.started + self.sent / rule.bytes_per_second
        return max(0.0, due - time.monotonic())
