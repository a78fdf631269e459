"""The push tests start a real `pier serve` (the e2e tier's fixtures)."""

from tests.e2e.conftest import server, server_factory

__all__ = ["server", "server_factory"]
