"""``python -m bayesgrn``: the command line (see :mod:`bayesgrn.cli`)."""

from __future__ import annotations

from bayesgrn.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
