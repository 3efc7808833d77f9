"""The one place that knows which ArviZ is installed.

ArviZ 0.2x: ``az.from_dict(posterior={...}, coords=..., dims=..., attrs=...)`` returns
``InferenceData``. ArviZ 1.x: ``az.from_dict({"posterior": {...}}, coords=..., dims=...)``
returns an xarray ``DataTree``. Intervals are never taken from ArviZ (its default
``hdi_prob`` differs between versions); bayesgrn computes them itself in numpy.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def arviz_major() -> int:
    import arviz as az

    return int(str(az.__version__).split(".")[0])


def to_inference_data(
    posterior: dict[str, np.ndarray],
    coords: dict[str, list[str]],
    dims: dict[str, list[str]],
    attrs: dict[str, Any],
) -> Any:
    """Build ArviZ's container from arrays shaped ``(chain, draw, ...)``."""
    import arviz as az

    if arviz_major() >= 1:
        tree = az.from_dict({"posterior": posterior}, coords=coords, dims=dims)
        tree.attrs.update(attrs)
        return tree
    idata = az.from_dict(posterior=posterior, coords=coords, dims=dims)
    idata.posterior.attrs.update(attrs)  # 0.2x drops from_dict's attrs on some versions
    return idata
