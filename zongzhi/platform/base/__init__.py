"""Building blocks: codes, errors, settings, PII, security, event types, limits, observability.

They import nothing of the platform but each other (import-linter's ``layers`` contract).
"""
