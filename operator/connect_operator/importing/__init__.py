"""Strimzi, Confluent for Kubernetes and Connect REST definitions → this operator's manifests (pure)."""
