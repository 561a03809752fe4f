"""zenpolicy: a declarative policy-as-code checker for an organisation's estate."""

__version__ = "0.1.0"
