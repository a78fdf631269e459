"""Durable state: tables, migrations and the async Store."""

from pier.store.accounts import hash_secret
from pier.store.engine import StoreUnavailable
from pier.store.store import Row, Store

__all__ = ["Row", "Store", "StoreUnavailable", "hash_secret"]
