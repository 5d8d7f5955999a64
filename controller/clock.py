"""The wall clock (edge): the runner and fetch steps read it; planners get `now` as an argument."""

from __future__ import annotations

import datetime as dt


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
