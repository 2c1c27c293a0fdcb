"""Prometheus metrics: live gauges from the resource monitor and per-model figures from the record store."""
