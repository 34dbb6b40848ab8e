"""Messages a user reads in conditions and Events."""

from __future__ import annotations

from pydantic import ValidationError


def validation_message(exc: ValidationError, prefix: str = "") -> str:
    """Pydantic's errors as one line a user can act on: `spec.field: what is wrong; ...`."""
    return "; ".join(f"{prefix}{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
