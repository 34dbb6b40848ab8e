"""The connector sync engine: desired + observed + memory → plan (pure), then execution (I/O)."""
