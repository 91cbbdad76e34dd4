"""Not a Python package to install: this file only gives ``plugins/conftest.py`` the
module name ``plugins.conftest`` under pytest, so that it does not shadow the
``conftest`` module of ``tests/`` that some tests import.  Each plugin under
``plugins/vsdstats-*`` is its own distribution with its tests in ``tests/``."""
