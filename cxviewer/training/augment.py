"""Training augmentation, applied to the 8-bit display image before :func:`preprocess.prepare`.

Two jobs. Keep anatomy plausible (small rotation, zoom, shift, brightness/contrast/gamma; no
flips: a reader never sees a vertically flipped or mirrored chest). And make source cues useless:
in these data each class comes mostly from one source, so every class gets the other sources'
fingerprints at random — JPEG re-compression, down/up-scaling, borders, tight crops, painted
letters, arrows and side markers — so none of them can predict the label.
"""

from __future__ import annotations

import cv2
import numpy as np

from cxviewer.model.preprocess import detail_at

_TEXTS = ("L", "R", "PA", "AP", "A", "B", "C", "a", "b", "1", "2", "SUPINE", "PORTABLE", "ERECT", "Fig. 1")


def _geometric(img: np.ndarray, rng: np.random.Generator, mask: np.ndarray | None = None):
    h, w = img.shape
    angle = rng.uniform(-7, 7)
    scale = rng.uniform(0.9, 1.15)
    tx, ty = rng.uniform(-0.06, 0.06) * w, rng.uniform(-0.06, 0.06) * h
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    m[:, 2] += (tx, ty)
    fill = int(rng.choice([0, int(np.median(img[:4]))]))
    out = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=fill)
    if mask is not None:
        mask = cv2.warpAffine(mask, m, (w, h), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return out, mask


def photometric(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Gamma, contrast and brightness at random (also the lung segmenter's light augmentation)."""
    gamma = np.exp(rng.uniform(np.log(0.7), np.log(1.45)))
    contrast = rng.uniform(0.75, 1.3)
    brightness = rng.uniform(-25, 25)
    lut = np.arange(256, dtype=np.float32) / 255.0
    lut = np.power(lut, gamma) * 255.0
    lut = (lut - 128.0) * contrast + 128.0 + brightness
    return cv2.LUT(img, np.clip(lut, 0, 255).astype(np.uint8))


def _rescale(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    h, w = img.shape
    f = rng.uniform(0.3, 0.9)
    small = cv2.resize(img, (max(16, int(w * f)), max(16, int(h * f))), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=int(rng.choice([cv2.INTER_LINEAR, cv2.INTER_CUBIC])))


def _jpeg(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(25, 95))])
    return cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE) if ok else img


def _crop(img: np.ndarray, rng: np.random.Generator, mask: np.ndarray | None = None):
    h, w = img.shape
    t, b = (rng.uniform(0, 0.1, 2) * h).astype(int)
    l, r = (rng.uniform(0, 0.1, 2) * w).astype(int)
    return img[t : h - b, l : w - r], None if mask is None else mask[t : h - b, l : w - r]


def _border(img: np.ndarray, rng: np.random.Generator, mask: np.ndarray | None = None):
    h, w = img.shape
    sides = (rng.uniform(0, 0.1, 4) * rng.integers(0, 2, 4) * (h, h, w, w)).astype(int)
    value = int(rng.choice([0, 255, int(rng.integers(0, 256))]))
    out = cv2.copyMakeBorder(img, *sides, cv2.BORDER_CONSTANT, value=value)
    return out, None if mask is None else cv2.copyMakeBorder(mask, *sides, cv2.BORDER_CONSTANT, value=0)


def _paint_marks(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    img = img.copy()
    h, w = img.shape
    for _ in range(int(rng.integers(1, 4))):
        colour = int(rng.choice([0, 255, int(rng.integers(150, 256))]))
        x, y = int(rng.uniform(0, 0.85) * w), int(rng.uniform(0.05, 1.0) * h)
        kind = rng.integers(0, 3)
        scale = rng.uniform(0.4, 1.6) * min(h, w) / 400
        if kind == 0:
            text = str(rng.choice(_TEXTS))
            cv2.putText(img, text, (x, y), int(rng.choice([0, 1, 2, 3])), scale, colour, max(1, int(2 * scale)), cv2.LINE_AA)
        elif kind == 1:
            length = rng.uniform(0.05, 0.15) * min(h, w)
            angle = rng.uniform(0, 2 * np.pi)
            end = (int(x + length * np.cos(angle)), int(y + length * np.sin(angle)))
            cv2.arrowedLine(img, (x, y), end, colour, max(1, int(3 * scale)), cv2.LINE_AA, tipLength=0.35)
        else:  # a side marker: letter in a box
            size = max(8, int(30 * scale))
            cv2.rectangle(img, (x, y - size), (x + size, y), colour, -1 if rng.random() < 0.5 else 2)
            cv2.putText(img, str(rng.choice(["L", "R"])), (x + size // 5, y - size // 5), 0, size / 35, 255 - colour, max(1, size // 12))
    return img


def _unsharp(img: np.ndarray, sigma: float, amount: float) -> np.ndarray:
    """Unsharp masking: ``amount`` times the film minus its Gaussian blur (``sigma`` px) added to it (negative:
    taken away)."""
    return cv2.addWeighted(img, 1 + amount, cv2.GaussianBlur(img, (0, 0), sigma), -amount, 0)


def style(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random acquisition "look" (``--style-randomise``): sharpness, local contrast and noise vary between
    hospitals' detectors and processing, and here the classes come from different sources, so every class
    gets blur or unsharp masking, CLAHE and noise at random and none of them can predict the label."""
    h, w = img.shape
    sigma = rng.uniform(0.5, 2.5) * max(h, w) / 512
    kind = rng.integers(0, 3)
    if kind == 0:
        img = cv2.GaussianBlur(img, (0, 0), sigma)
    elif kind == 1:  # unsharp masking, as detector processing does
        img = _unsharp(img, sigma * 2, rng.uniform(0.5, 2.0))
    if rng.random() < 0.5:
        clahe = cv2.createCLAHE(clipLimit=float(rng.uniform(1.0, 4.0)), tileGridSize=(8, 8))
        img = clahe.apply(img)
    if rng.random() < 0.5:
        noise = rng.normal(0, rng.uniform(2, 8), img.shape)
        img = np.clip(img.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    return img


def sharpness(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Unsharp masking at a random strength and scale (``--style-randomise sharpness``). Other hospitals'
    processing sharpens films far more than the NIH films the normal and pneumonia classes come from, and
    vessel markings sharpened so read as disease to a model that never saw a sharp normal film; every class
    gets sharpened views at random, so sharpness cannot predict the label."""
    sigma = rng.uniform(1.0, 4.0) * max(img.shape) / 512
    return _unsharp(img, sigma, rng.uniform(0.3, 2.0))


def local_contrast(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Large-scale local contrast at a random strength and scale, up or down (``--style-randomise
    local-contrast``): hospitals process films with wide unsharp masks (dynamic-range compression) to very
    different degrees. A probe of the low-pass model (3.2.0's run) moved other hospitals' normal films from 36 %
    called normal to 1 % with more of it (a mask of 5 % of the film, amount +1) and to 79 % with less (amount
    -0.5), and the training films' normal and pneumonia films with it: the amount of processing was read as
    disease. Every class gets views with more and with less of it, so it cannot predict the label."""
    sigma = rng.uniform(0.02, 0.10) * max(img.shape)
    return _unsharp(img, sigma, rng.uniform(-0.6, 1.2))


def amplitude_mix(img: np.ndarray, partner: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The film's Fourier amplitude moved toward a ``partner`` film's by a random share, its phase kept
    (``--style-randomise amplitude-mix``; amplitude mixing as in FACT, Xu et al., CVPR 2021). The amplitude
    spectrum carries a film's "look" (contrast, processing, sharpness, grain), the phase where its edges and
    shadows are. The partner is a training film of another class, so every class gets the others' looks and the
    look cannot predict the label; probes of the low-pass model (3.2.0's run) moved other hospitals' normal films
    between normal and disease by gamma, blur and wide unsharp masks alone."""
    h, w = img.shape
    other = cv2.resize(partner, (w, h), interpolation=cv2.INTER_AREA if partner.shape[0] > h else cv2.INTER_LINEAR)
    own = np.fft.rfft2(img.astype(np.float32))
    share = rng.uniform(0.0, 1.0)
    amplitude = (1.0 - share) * np.abs(own) + share * np.abs(np.fft.rfft2(other.astype(np.float32)))
    mixed = np.fft.irfft2(amplitude * np.exp(1j * np.angle(own)), s=(h, w))
    return np.clip(np.rint(mixed), 0, 255).astype(np.uint8)


def large_scale_detail(img: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(blurred film, detail, detail's standard deviation) at a Gaussian of 5 % of the film's longer side."""
    return detail_at(img.astype(np.float32), 0.05 * max(img.shape))


def contrast_match(img: np.ndarray, partner: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The film's large-scale local contrast (its detail at a Gaussian of 5 % of the film) brought to a
    ``partner`` film's amount (``--style-randomise contrast-match``). The partner is a training film of another
    class: the training hospital's normal films carry less of it than its pneumonia and the COVID-19 films (16.1
    against 18.4-20.2 grey levels on equalised 128 px lung crops), other hospitals' normal films as much as the
    diseased ones (20.6), and the network read the amount as disease. Matching real amounts of the other classes
    makes it the same in every class, where randomising it on every class (``local-contrast``) leaves the classes'
    own difference in place."""
    low, detail, spread = large_scale_detail(img)
    target = large_scale_detail(partner)[2]
    if spread < 1e-3 or target < 1e-3:
        return img
    gain = float(np.clip(target / spread, 0.5, 2.5))
    return np.clip(np.rint(low + detail * gain), 0, 255).astype(np.uint8)


STYLES = {"all": (style, 0.8), "sharpness": (sharpness, 0.6), "local-contrast": (local_contrast, 0.8)}
# styles that take a second film (chosen by the batch loader: a training film of another class)
PARTNER_STYLES = {"amplitude-mix": (amplitude_mix, 0.8), "contrast-match": (contrast_match, 0.8)}
STYLE_NAMES = (*STYLES, *PARTNER_STYLES)


def augment(img: np.ndarray, rng: np.random.Generator, style_randomise: bool | str = False) -> np.ndarray:
    """One random training view of a uint8 grey image (size may change; prepare() resizes)."""
    return augment_with_mask(img, None, rng, style_randomise)[0]


def augment_with_mask(img: np.ndarray, mask: np.ndarray | None, rng: np.random.Generator,
                      style_randomise: bool | str = False, partner: np.ndarray | None = None
                      ) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`augment`, with a uint8 lung mask on the same pixel grid moved by the same crop, border and
    warp (the same random draws: the image is the view :func:`augment` gives for this ``rng``).
    ``style_randomise``: False, True or "all" (:func:`style`), "sharpness" (:func:`sharpness` only) or
    "local-contrast" (:func:`local_contrast` only), or a style with a ``partner`` film: "amplitude-mix"
    (:func:`amplitude_mix`), "contrast-match" (:func:`contrast_match`)."""
    img, mask = framing(img, mask, rng)
    return look(img, rng, style_randomise, partner), None if mask is None else np.ascontiguousarray(mask)


def framing(img: np.ndarray, mask: np.ndarray | None, rng: np.random.Generator):
    """The first half of a view: what is in it and where (crop, border, warp, painted marks); the mask moves along."""
    if rng.random() < 0.5:
        img, mask = _crop(img, rng, mask)
    if rng.random() < 0.3:
        img, mask = _border(img, rng, mask)
    img, mask = _geometric(img, rng, mask)
    if rng.random() < 0.5:
        img = _paint_marks(img, rng)
    return img, mask


def look(img: np.ndarray, rng: np.random.Generator, style_randomise: bool | str = False,
         partner: np.ndarray | None = None) -> np.ndarray:
    """The second half of a view: how it looks (gamma, contrast, brightness, the style, down- and up-scaling,
    JPEG). Two looks of one framing are the pair the consistency loss compares (``--consistency``)."""
    img = photometric(img, rng)
    if style_randomise in PARTNER_STYLES:
        if partner is None:
            raise ValueError(f"the style {style_randomise!r} needs a partner film")
        mix, chance = PARTNER_STYLES[style_randomise]
        if rng.random() < chance:
            img = mix(img, partner, rng)
    elif style_randomise:
        restyle, chance = STYLES["all" if style_randomise is True else style_randomise]
        if rng.random() < chance:
            img = restyle(img, rng)
    if rng.random() < 0.4:
        img = _rescale(img, rng)
    if rng.random() < 0.5:
        img = _jpeg(img, rng)
    return np.ascontiguousarray(img)
