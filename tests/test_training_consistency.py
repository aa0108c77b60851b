"""``--consistency``: each film gives two views with one framing and two looks, and the loss adds the
Jensen-Shannon divergence between their predictions (AugMix's consistency), so a change of look alone is
taught not to change the answer. On real training films: the pair shares the crop, warp and marks (and so the
lung mask) and differs in its look; the divergence is 0 for equal answers and grows as they part; one training
step with the term gives the network a gradient toward agreeing."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cxviewer.training.augment import augment_with_mask, framing, look


@pytest.fixture(scope="module")
def films(training_film):
    return training_film("normal", 3), training_film("covid", 7)


def test_a_view_is_its_framing_then_its_look_drawn_in_that_order(films):
    normal, _ = films
    mask = (normal > np.median(normal)).astype(np.uint8)
    for seed in range(6):
        whole, whole_mask = augment_with_mask(normal, mask, np.random.default_rng(seed), "local-contrast")
        rng = np.random.default_rng(seed)
        framed, framed_mask = framing(normal, mask, rng)
        assert np.array_equal(look(framed, rng, "local-contrast"), whole) and np.array_equal(framed_mask, whole_mask)


def test_the_loader_gives_each_film_two_looks_of_one_framing(films):
    from cxviewer.training.train_loop import AugmentedBatches

    normal, covid = films
    images = [normal, covid, normal[::2, ::2].copy()]
    masks = [(img > np.median(img)).astype(np.uint8) for img in images]
    labels = np.array([2, 0, 2])
    weights = np.array([1.0, 2.0, 3.0], np.float32)
    batches = AugmentedBatches(images, labels, weights, 3, batch_size=3, seed=1, size=64,
                               standardise="equalize_hist", style_randomise="local-contrast", masks=masks, pairs=True)
    (x, cells), y, w = batches[0]
    assert x.shape == (6, 64, 64, 3) and cells.shape == (6, 2, 2) and y.shape == (6, 3)
    order = batches.order[:3]
    assert np.array_equal(y.argmax(1), np.concatenate([labels[order]] * 2))
    assert np.array_equal(w, np.concatenate([weights[order]] * 2))
    assert np.array_equal(cells[:3], cells[3:])  # one framing: the mask moved the same way for both looks
    for a, b in zip(x[:3], x[3:]):
        assert not np.array_equal(a, b)  # two looks
        # ... of the same film in the same place: the views agree far more than two films do
        assert np.corrcoef(a[..., 2].ravel(), b[..., 2].ravel())[0, 1] > 0.6
    assert np.corrcoef(x[0, ..., 2].ravel(), x[1, ..., 2].ravel())[0, 1] < np.corrcoef(
        x[0, ..., 2].ravel(), x[3, ..., 2].ravel())[0, 1]
    again = AugmentedBatches(images, labels, weights, 3, batch_size=3, seed=1, size=64, standardise="equalize_hist",
                             style_randomise="local-contrast", masks=masks, pairs=True)[0]
    assert np.array_equal(again[0][0], x)  # reproducible from (seed, epoch, batch)


def test_jensen_shannon_is_zero_for_equal_answers_and_grows_as_they_part():
    tf = pytest.importorskip("tensorflow")
    from cxviewer.training.lung_attention import jensen_shannon

    p = tf.constant([[0.7, 0.2, 0.1], [1 / 3, 1 / 3, 1 / 3]])
    assert np.allclose(jensen_shannon(p, p).numpy(), 0.0, atol=1e-6)
    near = tf.constant([[0.6, 0.3, 0.1], [0.4, 0.3, 0.3]])
    far = tf.constant([[0.0, 0.1, 0.9], [0.98, 0.01, 0.01]])
    d_near, d_far = jensen_shannon(p, near).numpy(), jensen_shannon(p, far).numpy()
    assert (d_near > 0).all() and (d_far > d_near).all() and (d_far <= np.log(2) + 1e-6).all()
    a, b = np.array([[1.0, 0.0, 0.0]]), np.array([[0.0, 1.0, 0.0]])  # no overlap: ln 2
    assert np.isclose(jensen_shannon(tf.constant(a), tf.constant(b)).numpy()[0], np.log(2), atol=1e-4)


def test_a_step_with_the_consistency_term_brings_the_two_answers_together():
    tf = pytest.importorskip("tensorflow")
    import keras

    from cxviewer.model.network import build_cxnet
    from cxviewer.training.lung_attention import LungAttentionTrainer, jensen_shannon

    keras.utils.set_random_seed(3)
    network = build_cxnet(32, 3)
    rng = np.random.default_rng(0)
    a = rng.uniform(0, 1, (4, 32, 32, 3)).astype(np.float32)
    b = np.clip(a[..., ::-1] * 0.5 + 0.4, 0, 1).astype(np.float32)  # the "other look"
    x = np.concatenate([a, b])
    cells = np.full((8, 1, 1), 0.5, np.float32)
    y = np.tile(np.eye(3, dtype=np.float32)[[0, 1, 2, 0]], (2, 1))
    w = np.ones(8, np.float32)

    def disagreement():
        p = network(x, training=False)
        return float(tf.reduce_mean(jensen_shannon(p[:4], p[4:])))

    trainer = LungAttentionTrainer(network, 0.0, 0.1, consistency=50.0)
    trainer.compile(optimizer=keras.optimizers.SGD(0.05))
    before = disagreement()
    logs = [trainer.train_on_batch((x, cells), y, w, return_dict=True) for _ in range(5)]
    assert "disagreement" in logs[0] and all(np.isfinite(v) for v in logs[-1].values())
    assert disagreement() < before
