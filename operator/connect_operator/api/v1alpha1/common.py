"""Types shared by both resources: status conditions and Secret references."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# Set on a model whose items, in any list, are keyed by these fields; crdgen turns it into
# `x-kubernetes-list-type: map` with `x-kubernetes-list-map-keys` on each such list.
LIST_MAP_KEYS = "x-kco-list-map-keys"


class Spec(BaseModel):
    """Base of every spec type: camelCase in YAML, unknown fields refused, values immutable."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class Condition(Spec):
    """A kstatus-style condition."""

    # A list of conditions holds one per type: the CRDs make it a map keyed by type (see crdgen).
    model_config = ConfigDict(json_schema_extra={LIST_MAP_KEYS: ["type"]})

    type: str = Field(description="Ready, Stalled, Reconciling, Degraded, ConfigValid, Synced, ...")
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
