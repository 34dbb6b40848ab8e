"""The Kubernetes API: the only package that talks to it (apart from kopf itself)."""
