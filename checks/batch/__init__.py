"""Batch runs: many setups from a file, checked concurrently, one combined report."""
