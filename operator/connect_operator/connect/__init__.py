"""Kafka Connect's REST API: typed results and errors (pure) and the async client (I/O)."""
