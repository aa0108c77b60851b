"""The reader's annotations on the image: tools, how they are drawn, their GSPS and their
layer in the report's PDF.
"""
