"""Durable state: tables, migrations and the async Store."""

from pier.store.engine import StoreUnavailable
from pier.store.store import Row, Store, hash_secret

__all__ = ["Row", "Store", "StoreUnavailable", "hash_secret"]
