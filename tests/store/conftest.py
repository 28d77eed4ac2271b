"""Store tests: the database behind `tui_desk.store`, through its API; only tests of
the schema itself read tables directly (tests/store/test_store_access.py keeps it so)."""
