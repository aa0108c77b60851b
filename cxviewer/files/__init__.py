"""File helpers every layer may use (the bottom of the layers, beside ``cxviewer.paths``): no other cxviewer import."""
