"""Values read once per GET request (the policy in force, a person's roles) instead of once per use.

A GET changes nothing, so what it reads cannot change under it; a POST, a job or a test reads afresh every time
(no memo is active there). The middleware opens one memo per safe request and drops it with the response.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_memo: ContextVar[dict | None] = ContextVar("schoolgate_request_memo", default=None)


@contextmanager
def request_memo() -> Iterator[dict]:
    token = _memo.set({})
    try:
        yield _memo.get()
    finally:
        _memo.reset(token)


def memoized[T](key: Hashable, compute: Callable[[], T]) -> T:
    """compute(), once per key while a request memo is open; every time otherwise."""
    memo = _memo.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


class RequestMemoMiddleware:
    SAFE_METHODS = frozenset({"GET", "HEAD"})

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in self.SAFE_METHODS:
            return self.get_response(request)
        with request_memo():
            return self.get_response(request)
