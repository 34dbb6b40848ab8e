"""kopf handlers: thin shells that parse, call the pure renderers and planners, and do the I/O."""
