"""Recordings: the file format, loaders of real datasets, and synthetic generators."""
