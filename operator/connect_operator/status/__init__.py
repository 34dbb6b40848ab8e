"""Pure status computation: conditions with kstatus semantics, and each resource's status from observations."""
