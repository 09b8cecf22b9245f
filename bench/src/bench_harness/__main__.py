"""`python -m bench_harness`: see bench_harness.cli."""

from bench_harness.cli import main

raise SystemExit(main())
