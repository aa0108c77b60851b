"""Low-pass standardisation on real films: a sharp and a soft copy of one film reach the network nearly alike
(the fine detail that differs between sources is gone), the coarse anatomy stays, the sigma is part of the
name the card records, and a bad name is refused with a clear message."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from cxviewer.model.inputs import InputRecipe
from cxviewer.model.preprocess import prepare
from cxviewer.model.standardise import DEFAULT_LOWPASS_SIGMA, check_standardise, lowpass_sigma

SIZE = 128


@pytest.fixture(scope="module")
def film(shared_dir):
    path = sorted((shared_dir / "data" / "cxr" / "images" / "normal").glob("*.jpg"))[7]
    return cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)


def _grey(tensor: np.ndarray) -> np.ndarray:
    return tensor[..., 2]  # the 'original' channel


def test_sharp_and_soft_copies_of_a_film_reach_the_network_nearly_alike(film):
    sharp = cv2.addWeighted(film, 2.0, cv2.GaussianBlur(film, (0, 0), 3.0), -1.0, 0)
    soft = cv2.GaussianBlur(film, (0, 0), 2.0)
    plain_gap = np.abs(_grey(prepare(sharp, SIZE, standardise="equalize_hist")[0])
                       - _grey(prepare(soft, SIZE, standardise="equalize_hist")[0])).mean()
    low_gap = np.abs(_grey(prepare(sharp, SIZE, standardise="equalize_hist+lowpass")[0])
                     - _grey(prepare(soft, SIZE, standardise="equalize_hist+lowpass")[0])).mean()
    assert low_gap < 0.6 * plain_gap


def test_the_blur_keeps_the_anatomy_and_grows_with_the_named_sigma(film):
    plain = _grey(prepare(film, SIZE, standardise="equalize_hist")[0])
    default = _grey(prepare(film, SIZE, standardise="equalize_hist+lowpass")[0])
    stronger = _grey(prepare(film, SIZE, standardise="equalize_hist+lowpass:3")[0])
    assert np.corrcoef(plain.ravel(), default.ravel())[0, 1] > 0.9  # the same film, softened

    def detail(img):
        return float(np.abs(cv2.Laplacian(img, cv2.CV_32F)).mean())

    assert detail(stronger) < detail(default) < 0.7 * detail(plain)
    # the sigma is given in pixels of a 128 px input: a 256 px input is blurred twice as many pixels, the same look
    big = _grey(prepare(film, 2 * SIZE, standardise="equalize_hist+lowpass")[0])
    small_again = cv2.resize(big, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    assert np.abs(small_again - default).mean() < 0.02


def test_the_card_names_the_sigma_and_bad_names_are_refused(film):
    assert lowpass_sigma("equalize_hist+lowpass") == DEFAULT_LOWPASS_SIGMA
    assert lowpass_sigma("equalize_hist+lowpass:2.5") == 2.5
    assert lowpass_sigma("equalize_hist") is None and lowpass_sigma(None) is None
    for bad in ("equalize_hist+lowpass:", "equalize_hist+lowpass:x", "equalize_hist+lowpass:0", "equalize_hist+lowpass2",
                "equalise"):
        with pytest.raises(ValueError, match="unknown input standardisation"):
            check_standardise(bad)
        with pytest.raises(ValueError, match="unknown input standardisation"):
            prepare(film, SIZE, standardise=bad)

    class Card:
        input_size, standardise, spectrum_template = SIZE, "equalize_hist+lowpass:2.5", None
        mask_outside_lungs = False

    tensor, _ = InputRecipe.of_card(Card()).prepare(film)
    np.testing.assert_array_equal(tensor, prepare(film, SIZE, standardise="equalize_hist+lowpass:2.5")[0])


def test_a_card_with_an_unknown_standardisation_is_refused_at_load(tmp_path):
    import json
    import shutil

    from cxviewer.model.card import ModelCardError, load_card

    source = Path(__file__).resolve().parent.parent / "models" / "cxnet-densenet121-v3"
    shutil.copy(source / "card.json", tmp_path / "card.json")
    shutil.copy(source / "model.tflite", tmp_path / "model.tflite")
    assert load_card(tmp_path).standardise == "equalize_hist+lowpass"
    data = json.loads((tmp_path / "card.json").read_text())
    data["input"]["standardise"] = "equalize_hist+lowpass:nine"
    (tmp_path / "card.json").write_text(json.dumps(data))
    with pytest.raises(ModelCardError, match="unknown input standardisation 'equalize_hist\\+lowpass:nine'"):
        load_card(tmp_path)
