"""API group kco.dev, version v1alpha1."""

GROUP = "kco.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
