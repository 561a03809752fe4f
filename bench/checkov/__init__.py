"""Checkov custom checks for the benchmark (Checkov loads a directory only with this file)."""
