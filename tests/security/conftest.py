"""Fixtures of the security suite (a module of its own: ``conftest`` names clash across test folders)."""

from hostile_workspace import hostile  # noqa: F401  (fixture)
