"""CXViewer: a reading station for chest radiographs with an honest AI second opinion."""

__version__ = "0.1.0"
