"""Types shared by both resources: status conditions and Secret references."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Spec(BaseModel):
    """Base of every spec type: camelCase in YAML, unknown fields refused, values immutable."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class Condition(Spec):
    """A kstatus-style condition."""

    type: str = Field(description="Ready, Progressing, Degraded, ConfigValid, Synced, ...")
    status: Literal["True", "False", "Unknown"] = Field(description="True, False or Unknown.")
    reason: str = Field(default="", description="One PascalCase word, for machines.")
    message: str = Field(default="", description="What happened and what to do, for people.")
    observed_generation: int | None = Field(
        default=None, alias="observedGeneration", description="The generation this condition describes."
    )
    last_transition_time: str | None = Field(
        default=None, alias="lastTransitionTime", description="When the status last changed (RFC 3339)."
    )


class SecretKey(Spec):
    """One key of a Secret in the resource's namespace."""

    secret_name: str = Field(alias="secretName", min_length=1, description="The Secret's name.")
    key: str = Field(min_length=1, description="The key within the Secret.")
