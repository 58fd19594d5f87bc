"""Annotation: the label scheme, the sample, exports for the annotation tools, imports of their returns."""
