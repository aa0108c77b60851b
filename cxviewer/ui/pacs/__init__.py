"""PACS in the viewer: query/retrieve, the listener, the nodes and sending results and reports.
"""
