"""Development and test kit: a real local Kubernetes control plane and a pod runner. Never used in production."""
