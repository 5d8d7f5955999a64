"""HTTP plumbing shared by the registry client and the listing APIs (the I/O edge)."""

from __future__ import annotations

from http.cookiejar import DefaultCookiePolicy
from typing import Any

import requests


class TimeoutSession(requests.Session):
    """requests has no session-wide timeout; oras's token requests would otherwise wait forever."""

    def __init__(self, timeout: tuple[float, float], user_agent: str):
        super().__init__()
        self._timeout = timeout
        self.headers["User-Agent"] = user_agent
        # Some registries (Harbor) set CSRF cookies for what looks like a browser; oras ignores them too.
        self.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))

    def request(self, method: str, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self._timeout)
        return super().request(method, url, *args, **kwargs)


def root_cause(error: BaseException) -> str:
    """The innermost OSError's text ('[Errno 111] Connection refused'), not requests' wrapper."""
    seen: BaseException | None = error
    found: BaseException = error
    for _ in range(10):
        if seen is None:
            break
        found = seen
        reason = getattr(seen, "reason", None)
        nested = reason if isinstance(reason, BaseException) else None
        args_error = next((a for a in getattr(seen, "args", ()) if isinstance(a, BaseException)), None)
        seen = nested or args_error or seen.__cause__ or seen.__context__
    text = str(found)
    # urllib3 prefixes "<connection object at 0x…>: "; the part after it is the useful one.
    return text.split(">: ", 1)[-1] if ">: " in text else text
