"""The custom resources' API types: the single source of truth for CRDs, validation and docs."""
