"""Evaluation engines: native (Python closures) and OPA (Rego)."""
