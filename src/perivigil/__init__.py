"""perivigil: detecting drug misuse during pregnancy in French forum posts."""

__version__ = "0.2.0"
