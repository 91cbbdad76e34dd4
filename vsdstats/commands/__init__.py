"""Subcommands of ``vsdstats`` that live in their own modules; cli.py registers them."""
