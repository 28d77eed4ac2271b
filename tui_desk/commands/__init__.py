"""The CLI's command groups (Typer). Thin: parse arguments, call services, print.

`tui_desk/cli.py` assembles them into the `tui-desk` app.
"""
