"""The example shop: an HTTP API (api.py) with its data layer (store.py),
a background worker (worker.py) and the migration job (migrate.py)."""
