"""Sub-commands of this package (registered in salus.cli.COMMAND_MODULES)."""


def register(reg) -> None:
    """Add this package's parsers to ``reg`` (a salus.cli.Registry)."""
