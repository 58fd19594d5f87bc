"""Preprocessing: from raw posts (raw zone) to pseudonymised, masked, normalised ``posts.parquet``."""
