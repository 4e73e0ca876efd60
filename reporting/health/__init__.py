"""System health checks: thresholds (settings and per-team overrides), the
five checks, and the sweep that files and resolves system reports."""
