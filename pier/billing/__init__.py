"""Money: prices, cost estimates, holds and the ledger, and spend alerts.

Every amount inside Pier is an integer number of micro-dollars; only the edges (the API, the
CLI, the playground) show dollars, as decimal strings.
"""
