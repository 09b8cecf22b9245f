# Benchmark targets (included from the top-level Makefile, which defines BIN and `setup`).
#   make bench                      both layouts (quick profile), report, before -> after table
#   make bench-before / bench-after one layout
#   make bench-compare A=a.json B=b.json [THRESHOLD=0.1]   non-zero exit when B regresses
#   make bench-smoke                the CI smoke profile (tiny scale, seconds per phase)
#   make bench-ladder [WRITE_DOCS=1] the fixes one at a time, and the after layout minus each
# Override BENCH_PROFILE=full, BENCH_SCALE=small, BENCH_OUT=dir, BENCH_ARGS="--fixed-rate 40".
BENCH_PROFILE ?= quick
BENCH_OUT ?= bench/results
BENCH_SCALE ?=
BENCH_ARGS ?=
THRESHOLD ?= 0.1
BENCH_RUN = $(BIN)/python -m bench_harness run --profile $(BENCH_PROFILE) --out $(BENCH_OUT) \
	$(if $(BENCH_SCALE),--scale $(BENCH_SCALE)) $(BENCH_ARGS)

.PHONY: bench bench-before bench-after bench-compare bench-smoke bench-ladder

## Measure both layouts on fresh stacks, write a result file and a report, print the comparison.
bench: setup
	$(BENCH_RUN) --layout both

bench-before: setup
	$(BENCH_RUN) --layout before

bench-after: setup
	$(BENCH_RUN) --layout after

## Compare two result files (path.json or path.json:layout); fails when B regresses beyond THRESHOLD.
bench-compare: setup
	@test -n "$(A)" -a -n "$(B)" || { echo "usage: make bench-compare A=base.json B=new.json [THRESHOLD=0.1]"; exit 2; }
	$(BIN)/python -m bench_harness compare $(A) $(B) --threshold $(THRESHOLD)

bench-smoke: setup
	$(BIN)/python -m bench_harness run --layout both --profile smoke --out $(BENCH_OUT)

## The fix-by-fix ladder and the leave-one-out view (bench_harness/ladder.py); WRITE_DOCS=1 also
## fills the measured slots of docs/migration.md.
bench-ladder: setup
	$(BIN)/python -m bench_harness ladder --profile $(BENCH_PROFILE) --out $(BENCH_OUT) \
		$(if $(BENCH_SCALE),--scale $(BENCH_SCALE)) $(if $(WRITE_DOCS),--write-docs) $(BENCH_ARGS)
