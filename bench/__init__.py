"""Benchmarks of the broker against floors measured on the same stack in the same run."""
