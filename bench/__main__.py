"""``python -m bench [--sizes 200,1000] [--repeats 3] [--resync 10] [--json FILE]``."""

from bench.cli import main

raise SystemExit(main())
