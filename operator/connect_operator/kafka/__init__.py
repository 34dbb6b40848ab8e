"""Kafka itself (not Connect): the internal topics a Connect group needs."""
