-- Runs once, when the data volume is initialised. pg_stat_statements is also preloaded by the
-- server command line: it is the benchmark's ground truth for statements per request.
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
