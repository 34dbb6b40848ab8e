"""Which failed REST attempts the client may send again, and how long it waits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connect_operator.connect import errors
from connect_operator.connect.client import RetryPolicy, may_retry

pytestmark = pytest.mark.unit

REBALANCE_500 = errors.for_status("POST", "/x", 500, "Request cannot be completed because a rebalance is expected", 500)
STALE_409 = errors.for_status("POST", "/x", 409, "Cannot complete request momentarily due to stale configuration", 409)
EXISTS_409 = errors.for_status("POST", "/connectors", 409, "Connector x already exists", 409)
OTHER_500 = errors.for_status("PUT", "/x", 500, "NullPointerException", 500)
BAD_400 = errors.for_status("PUT", "/x", 400, "Invalid value", 400)
REFUSED = errors.ConnectUnavailable("POST", "/x", "connection refused", sent=False)
TIMED_OUT = errors.ConnectUnavailable("POST", "/x", "timed out", sent=True)


@pytest.mark.parametrize(
    ("error", "repeatable", "expected"),
    [
        (REBALANCE_500, False, True),  # refused during a rebalance: not applied, safe for any method
        (STALE_409, False, True),
        (EXISTS_409, False, False),  # final
        (OTHER_500, True, True),
        (OTHER_500, False, False),  # outcome unknown: a restart must not run twice
        (BAD_400, True, False),
        (REFUSED, False, True),  # never arrived
        (TIMED_OUT, True, True),
        (TIMED_OUT, False, False),
    ],
)
def test_retry_rule(error: errors.ConnectError, repeatable: bool, expected: bool) -> None:
    assert may_retry(error, repeatable) is expected


def test_errors_are_typed_by_status() -> None:
    assert isinstance(BAD_400, errors.ConnectBadRequest)
    assert isinstance(errors.for_status("GET", "/x", 404, "", None), errors.ConnectNotFound)
    assert isinstance(STALE_409, errors.ConnectConflict) and STALE_409.is_rebalance
    assert isinstance(OTHER_500, errors.ConnectServerError) and not OTHER_500.is_rebalance


@given(st.integers(1, 50))
def test_backoff_is_jittered_within_the_cap(attempt: int) -> None:
    policy = RetryPolicy(base_delay=0.25, max_delay=5.0)
    assert 0 <= policy.delay(attempt) <= min(5.0, 0.25 * 2 ** (attempt - 1))
