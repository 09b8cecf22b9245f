"""Benchmark harness: k6 scenarios, a runner that measures both layouts, and reports."""
