"""Pure rendering: a KafkaConnect spec → the Kubernetes objects that run it. No I/O, no clients."""
