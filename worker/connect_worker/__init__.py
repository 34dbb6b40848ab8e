"""connect_worker: everything that runs a Kafka Connect worker.

The init-container logic of worker pods, and local worker processes, a local broker and a
test bed for development and tests.
"""
