"""Benchmark records: the schema, the SQLite store, exports and host facts."""
