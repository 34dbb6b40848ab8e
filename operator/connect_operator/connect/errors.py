"""Errors of the Connect REST API, typed by what a caller does about them."""

from __future__ import annotations


class ConnectError(Exception):
    """A failed call: HTTP status (0 when there was no answer), Connect's error_code and message."""

    def __init__(self, method: str, path: str, status: int, message: str, error_code: int | None = None) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.error_code = error_code if error_code is not None else status
        self.message = message
        super().__init__(f"{method} {path}: {status or 'no answer'} {message}".rstrip())

    @property
    def is_rebalance(self) -> bool:
        """Connect refused because the group is rebalancing: the request was not applied; try again."""
        text = self.message.lower()
        return self.status == 409 or (self.status >= 500 and ("rebalance" in text or "stale config" in text))


class ConnectBadRequest(ConnectError):
    """400: Connect rejected the request (e.g. an invalid connector config), with its message."""


class ConnectNotFound(ConnectError):
    """404: no such connector, task or plugin."""


class ConnectConflict(ConnectError):
    """409: a rebalance is in progress, or the connector already exists."""


class ConnectServerError(ConnectError):
    """5xx from a worker."""


class ConnectUnavailable(ConnectError):
    """No answer: connection refused, reset, or timed out. `sent` says whether the request may have arrived."""

    def __init__(self, method: str, path: str, message: str, *, sent: bool) -> None:
        super().__init__(method, path, 0, message)
        self.sent = sent


def for_status(method: str, path: str, status: int, message: str, error_code: int | None) -> ConnectError:
    kind: type[ConnectError]
    if status == 400:
        kind = ConnectBadRequest
    elif status == 404:
        kind = ConnectNotFound
    elif status == 409:
        kind = ConnectConflict
    elif status >= 500:
        kind = ConnectServerError
    else:
        kind = ConnectError
    return kind(method, path, status, message, error_code)
