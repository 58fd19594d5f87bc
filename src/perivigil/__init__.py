"""perivigil: detecting drug misuse during pregnancy in French forum posts."""

__version__ = "0.1.0"
