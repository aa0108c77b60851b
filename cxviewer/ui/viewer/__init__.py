"""The image view and what is drawn on it (corner text, distance, window presets), and the
viewport layouts.
"""
