"""Inference back ends, dispatched by name from :func:`bayesgrn.fit`."""

from __future__ import annotations

METHODS = ("svi", "nuts", "gibbs")
