"""`kco`: the sync engine from the command line, with or without Kubernetes."""
