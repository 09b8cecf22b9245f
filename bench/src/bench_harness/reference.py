"""The published story's figures (source: ../shared/seeds/004, its "Final Numbers" table and the
hop counts of its first fix), shown beside ours as the reference column. Measured there on
4 vCPU / 8 GB with k6; here on whatever the fingerprint says, so compare ratios, not values."""

from __future__ import annotations

SOURCE = "published refactor story (seeds/004): 4 vCPU / 8 GB, k6"

# figure key -> (before, after, how the story states it)
PUBLISHED: dict[str, tuple[float, float, str]] = {
    "sustainable_rps": (180, 1300, "~180 -> ~1300 req/s"),
    "fixed_p95_ms": (4200, 180, "p95 ~4200 ms -> ~180 ms"),
    "db_queries_per_dashboard": (14, 2, "14 -> 2 DB queries per request"),
    "hops_dashboard": (4, 1, "~4 -> ~1 internal hops"),
    "services": (14, 4, "14+ -> 4 services"),
}
