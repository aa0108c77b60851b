"""Training, evaluation and export of the models (TensorFlow; never imported by the run time).

It builds on ``cxviewer.model`` (the run time: cards, networks, preprocessing, the
classifier); ``cxviewer.model`` never imports it (import-linter contract
``run-time-without-training``). Only ``cxviewer.commands`` (train, evaluate, compare, soup,
export-model, train-lungs) imports it.
"""
