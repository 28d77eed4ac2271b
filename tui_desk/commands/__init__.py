"""The CLI's command groups (Typer). Thin: parse arguments, call services, print.

`cli.py` at the top level assembles them into the `tui-desk` app.
"""
