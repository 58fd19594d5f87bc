"""Figures and tables of the study (one function per figure or table)."""
