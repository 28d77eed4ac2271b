"""`python cli.py` / `python -m cli` from a checkout: the `tui-desk` command, whose code
is `tui_desk/cli.py` (the installed `tui-desk` script runs that; the package owns no
top-level module of its own)."""

from tui_desk.cli import COMMANDS, app, main  # noqa: F401 (what scripts and tests use)

if __name__ == "__main__":
    main()
