"""Imports: receive a CSV upload, stage it, apply it in batches, report progress."""
