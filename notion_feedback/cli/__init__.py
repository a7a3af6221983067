"""The command line: the Typer app (``app``) and one module per command (``<name>_command``)."""
