"""Graph export: networkx graphs and GraphML files (Cytoscape, Gephi, yEd read them)."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bayesgrn.posterior import Posterior


def to_networkx(posterior: Posterior, min_p_edge: float = 0.5, ci_prob: float = 0.9) -> Any:
    """Build a ``networkx.DiGraph`` of the edges with ``p_edge >= min_p_edge``.

    Every gene is a node; edge attributes are the columns of :meth:`Posterior.edges`
    (``mean, sd, ci_lower, ci_upper, p_edge, p_positive, lfsr, lfdr``) plus ``sign``.
    """
    try:
        import networkx as nx
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "to_networkx needs networkx: pip install 'bayesgrn[graph]' (or networkx)"
        ) from err
    if not 0.0 <= min_p_edge <= 1.0:
        raise ValueError(f"min_p_edge must lie in [0, 1], got {min_p_edge}")
    graph = nx.DiGraph(model=str(posterior.spec.get("name")), spec_hash=posterior.spec_hash)
    graph.add_nodes_from(posterior.targets)
    edges = posterior.edges(ci_prob=ci_prob)
    keep = edges[edges["p_edge"] >= min_p_edge]
    numeric = ["mean", "sd", "ci_lower", "ci_upper", "p_edge", "p_positive", "lfsr", "lfdr"]
    for row in keep.itertuples(index=False):
        attrs = {name: float(getattr(row, name)) for name in numeric}
        attrs["sign"] = 1 if row.p_positive >= 0.5 else -1
        graph.add_edge(row.regulator, row.target, **attrs)
    return graph


def write_graphml(
    posterior: Posterior, path: str | os.PathLike[str], min_p_edge: float = 0.5
) -> Path:
    """Write :func:`to_networkx`'s graph as GraphML, atomically."""
    import networkx as nx

    from bayesgrn.posterior import atomic_write_bytes

    buffer = io.BytesIO()
    nx.write_graphml(to_networkx(posterior, min_p_edge=min_p_edge), buffer)
    path = Path(path)
    atomic_write_bytes(path, buffer.getvalue())
    return path
