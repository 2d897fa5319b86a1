"""``python -m swiftgraph.cli``: the same as the ``swiftgraph`` command."""

import sys

from swiftgraph.cli import main

sys.exit(main())
