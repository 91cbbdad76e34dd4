"""Tests of the platform connector plugins (a package, so that its conftest does not
shadow the root ``conftest`` module that other tests import)."""
