"""`python -m bench [--quick | --smoke] [--db sqlite,postgres]`: see bench/run.py."""

from bench.run import main

raise SystemExit(main())
