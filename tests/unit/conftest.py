"""Unit tests: one module or command at a time, on files and a fresh database in
tmp_path; no server. The shared fixtures are in tests/conftest.py."""
