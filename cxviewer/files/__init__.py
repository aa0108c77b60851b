"""File helpers every layer may use (the bottom of the layers, below ``cxviewer.paths``): no other cxviewer import."""
