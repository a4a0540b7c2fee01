"""Casework's own settings plus one bench-only route (the Django floor); never for production."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
