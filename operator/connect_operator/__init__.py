"""connect_operator: the Kubernetes operator for Kafka Connect, its sync engine and the `kco` CLI."""
