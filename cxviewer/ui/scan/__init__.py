"""The batch scan dialog and its results table.
"""
