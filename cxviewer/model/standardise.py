"""The input standardisations a model card may name (``input.standardise``), and the one check of a name.

Kept apart from :mod:`cxviewer.model.preprocess` (which does the work, with OpenCV) so that reading a card, listing
the models and parsing ``cxviewer train``'s options import nothing heavy.
"""

from __future__ import annotations

STANDARDISERS = ("equalize_hist", "equalize_hist+spectrum", "equalize_hist+lowpass")
LOWPASS = "equalize_hist+lowpass"
# The low-pass blur's default Gaussian sigma, in pixels of a 128 px input (scaled with the input size): detail
# finer than about 4 px at 128 px (about a centimetre of an adult lung crop) is taken away before the network sees
# the film. "equalize_hist+lowpass:2.5" names another sigma; the card records the whole name.
DEFAULT_LOWPASS_SIGMA = 1.5
# "+localnorm" after a low-pass name also brings the film's large-scale local contrast (the detail left when a
# Gaussian of LOCALNORM_SCALE px of a 128 px input is taken away: the wide unsharp masking hospitals apply in
# different amounts) to one fixed amount, LOCALNORM_TARGET grey levels (standard deviation over the crop; about the
# median of the training films): how much a source sharpens at that scale no longer reaches the network, only where.
LOCALNORM = "+localnorm"
LOCALNORM_SCALE = 6.0
LOCALNORM_TARGET = 17.0


def local_contrast_normalised(standardise: str | None) -> bool:
    """True for a ``"equalize_hist+lowpass[:SIGMA]+localnorm"`` standardisation."""
    return standardise is not None and standardise.startswith(LOWPASS) and standardise.endswith(LOCALNORM)


def lowpass_sigma(standardise: str | None) -> float | None:
    """The blur sigma (pixels of a 128 px input) of an ``"equalize_hist+lowpass[:SIGMA][+localnorm]"``
    standardisation, else None."""
    if standardise is None or not standardise.startswith(LOWPASS):
        return None
    rest = standardise[len(LOWPASS):]
    if rest.endswith(LOCALNORM):
        rest = rest[: -len(LOCALNORM)]
    if not rest:
        return DEFAULT_LOWPASS_SIGMA
    try:
        sigma = float(rest[1:]) if rest.startswith(":") else float("nan")
    except ValueError:
        sigma = float("nan")
    if not (0.0 < sigma <= 16.0):
        raise ValueError(f"unknown input standardisation {standardise!r} (the low-pass sigma must be 0-16 px: "
                         f"'{LOWPASS}:1.5', optionally followed by '{LOCALNORM}')")
    return sigma


def check_standardise(standardise: str | None) -> str | None:
    """``standardise`` itself when it names a known standardisation (``STANDARDISERS``, a low-pass with its
    sigma), else ValueError: the one check, for the card, ``prepare`` and ``cxviewer train``."""
    if standardise is not None and standardise not in STANDARDISERS and lowpass_sigma(standardise) is None:
        raise ValueError(f"unknown input standardisation {standardise!r}")
    return standardise
