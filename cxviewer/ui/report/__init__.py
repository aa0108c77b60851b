"""The report pane: drafts, Draft/Final, PDF and JSON exports, and its place in the window.
"""
