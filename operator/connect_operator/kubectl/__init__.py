"""`kubectl kco`: day-to-day verbs on Connector resources, done by editing them; the operator acts."""
