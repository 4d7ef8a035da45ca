"""Subcommands of `sim` beyond run/check/assumptions; each module has register(commands)."""
