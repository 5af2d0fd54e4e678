"""The security suite reuses the plugins' fake partner server."""

from tests.plugins.conftest import partner_server  # noqa: F401  (a fixture, found by name)
