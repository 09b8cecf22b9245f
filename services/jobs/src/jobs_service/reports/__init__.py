"""Report requests on the internal API: create, list, read, summarize, download."""
