"""Fynix benchmark harness: seed data, index, HTTP, workload and fault benchmarks, report."""
