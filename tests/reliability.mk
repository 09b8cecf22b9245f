# Reliability and security figures (included from the Makefile): run the fault and security
# tests alone, have them write their figures as JSON, and render docs/reliability.md from them.
RELIABILITY_RESULTS_DIR := bench/results/reliability

.PHONY: test-reliability

## Break the after layout on purpose and try hostile input; publish the figures.
test-reliability: setup
	rm -rf $(RELIABILITY_RESULTS_DIR)
	mkdir -p $(RELIABILITY_RESULTS_DIR)
	RELIABILITY_RESULTS=$(abspath $(RELIABILITY_RESULTS_DIR)) $(BIN)/python -m pytest \
		tests/faults tests/security -p no:cacheprovider; \
	status=$$?; \
	$(BIN)/python tools/reliability_report.py $(RELIABILITY_RESULTS_DIR) --out docs/reliability.md; \
	exit $$status
