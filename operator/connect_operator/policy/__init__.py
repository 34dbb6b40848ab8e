"""Decisions the handlers act on, as pure functions: what to sync, hold back, report and release."""
