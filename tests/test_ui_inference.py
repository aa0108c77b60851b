"""The inference worker: real model, real CR, GUI thread never blocked; bad input is a signal, not a crash."""

import time

import numpy as np
import pytest

from cxviewer.model import available_models

pytestmark = pytest.mark.skipif(not available_models(), reason="no bundled model in models/")


@pytest.fixture
def service(qtbot):
    from cxviewer.ui.ai.inference import InferenceService

    svc = InferenceService()
    yield svc
    svc.shutdown()


def test_worker_delivers_result_while_event_loop_ticks(qtbot, service, shared_dir):
    from PySide6.QtCore import QTimer

    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    path = shared_dir / "data/dicom/CR-MONO1-10-chest.dcm"
    started = time.perf_counter()
    with qtbot.waitSignal(service.result, timeout=600_000) as blocker:
        service.submit("chest", str(path))
    waited = time.perf_counter() - started
    timer.stop()
    key, prediction = blocker.args
    assert key == "chest"
    assert prediction.labels == ("covid", "pneumonia", "normal")
    assert abs(sum(prediction.probabilities) - 1.0) < 1e-4
    assert prediction.heatmap.shape == (440, 440)
    assert 0.0 <= prediction.heatmap.min() and prediction.heatmap.max() <= 1.0
    assert service.device and service.model_title
    # the GUI thread kept running its event loop the whole time (LiteRT may answer in a fraction of a second:
    # the number of 5 ms ticks is judged against the time waited, at least one per 100 ms)
    assert len(ticks) >= max(2, int(waited / 0.1)), (len(ticks), waited)
    gaps = np.diff(ticks)
    assert gaps.max() < 2.0, f"event loop stalled {gaps.max():.2f} s"
    # the second request for the same image is served from the cache, at once
    with qtbot.waitSignal(service.result, timeout=1000):
        assert service.submit("chest", str(path)) is True


def test_corrupt_file_yields_error_signal(qtbot, service, tmp_path, shared_dir):
    bad = tmp_path / "broken.dcm"
    bad.write_bytes((shared_dir / "data/dicom/RG1_UNCR.dcm").read_bytes()[:5000])
    with qtbot.waitSignal(service.failed, timeout=60_000) as blocker:
        service.submit("broken", str(bad))
    key, message = blocker.args
    assert key == "broken" and message
    # and the worker is still alive for the next image
    img = np.full((300, 280), 90, np.uint8)
    img[50:250, 40:120] = 30
    with qtbot.waitSignal(service.result, timeout=600_000):
        service.submit("next", img)


def test_stale_requests_are_dropped(qtbot, service):
    imgs = [np.random.default_rng(i).integers(0, 255, (256, 256), dtype=np.uint8) for i in range(4)]
    got: list[str] = []
    service.result.connect(lambda k, p: got.append(k))
    for i, img in enumerate(imgs):
        service.submit(f"img{i}", img)
    qtbot.waitUntil(lambda: "img3" in got, timeout=600_000)
    qtbot.wait(200)
    assert got[-1] == "img3"
    assert len(got) < 4  # at least one queued request was superseded before it started


def test_ct_file_is_refused_by_its_header_and_the_panel_says_why(qtbot, service, tmp_path):
    from report_samples import dicom_copy

    from cxviewer.ui.ai.panel import AIPanel

    ct = dicom_copy(tmp_path, Modality="CT", name="ct.dcm")
    with qtbot.waitSignal(service.result, timeout=600_000) as blocker:
        service.submit("ct", str(ct))
    prediction = blocker.args[1]
    assert not prediction.in_scope and "CT" in prediction.scope_reason and prediction.heatmap is None
    panel = AIPanel()
    qtbot.addWidget(panel)
    panel.show_out_of_scope(prediction)
    assert "Outside the model's scope" in panel.status.text() and "CT" in panel.status.text()
    assert all(bar.value() == 0 for bar in panel.bars.values())


def test_model_is_loaded_and_run_once_at_start_up_before_any_request(qtbot, shared_dir):
    """The viewer's worker loads the model and runs both networks once on a made-up film as soon as it starts,
    so that the reader's first film does not pay for the interpreters' set-up; the made-up film's answer is
    dropped (no result signal) and the first real film is answered as usual."""
    from cxviewer.ui.ai.inference import InferenceService

    svc = InferenceService()
    results: list[str] = []
    svc.result.connect(lambda key, _p: results.append(key))
    try:
        with qtbot.waitSignal(svc.ready, timeout=600_000) as blocker:
            pass
        assert blocker.args == [True]
        assert svc.model_title and svc.device  # loaded without a request
        classifier = svc._worker._classifier
        assert classifier is not None and classifier.segmenter is not None  # the outline's segmenter too
        assert results == []
        path = shared_dir / "data/dicom/RG1_UNCR.dcm"
        with qtbot.waitSignal(svc.result, timeout=600_000) as got:
            svc.submit("rg1", str(path))
        prediction = got.args[1]
        assert got.args[0] == "rg1" and prediction.heatmap.shape == (1955, 1841)
        # the attention figures were computed on the worker: the panel only reads them
        assert "attention_in_lungs" in vars(prediction) and prediction.attention_in_lungs["share"] > 0
        # the status bar (svc.device) and the panel's details say where it ran the same way
        from cxviewer.ui.ai.inference import where_it_runs

        assert svc.device == where_it_runs(prediction.device, prediction.runtime)
        assert " · " in svc.device and svc.device.startswith(prediction.device)
    finally:
        svc.shutdown()


def test_without_preload_the_model_loads_at_the_first_request(qtbot):
    from cxviewer.ui.ai.inference import InferenceService

    svc = InferenceService(preload=False)
    try:
        qtbot.wait(300)
        assert svc.model_title is None and svc._worker._classifier is None
        img = np.full((300, 280), 90, np.uint8)
        with qtbot.waitSignal(svc.result, timeout=600_000):
            svc.submit("img", img)
        assert svc.model_title
    finally:
        svc.shutdown()


def test_a_model_that_cannot_load_is_reported_at_the_first_request_not_at_start_up(qtbot, tmp_path):
    """The start-up preload only logs a failure (no dialog before the reader has done anything); the first
    film then gets the loader's message on ``failed``, as before, and the worker lives on."""
    from cxviewer.ui.ai.inference import InferenceService

    svc = InferenceService(model_dir=tmp_path / "no-such-model")
    try:
        with qtbot.waitSignal(svc.ready, timeout=600_000) as blocker:
            pass
        assert blocker.args == [False] and svc.preloaded is False and svc.model_title is None
        with qtbot.waitSignal(svc.failed, timeout=600_000) as failed:
            svc.submit("film", np.full((300, 280), 90, np.uint8))
        assert failed.args[0] == "film" and "no-such-model" in failed.args[1]
    finally:
        svc.shutdown()


def test_what_the_old_worker_sent_is_dropped_after_a_model_switch(qtbot, shared_dir):
    """A film is being analysed when the reader switches models: the old model's answer (and its "loaded" notice),
    already on its way to the GUI thread when the switch happens, is neither shown nor cached after ``reset``."""
    import threading

    from cxviewer.imaging import read_radiograph
    from cxviewer.model import default_model_dir
    from cxviewer.ui.ai.inference import InferenceService

    others = [c.directory for c in available_models() if c.directory.resolve() != default_model_dir().resolve()]
    if not others:
        pytest.skip("only one bundled model")
    rad = read_radiograph(shared_dir / "data/dicom/CR-MONO1-10-chest.dcm")
    entered, release = threading.Event(), threading.Event()

    svc = InferenceService(preload=False)
    seen = []
    svc.result.connect(lambda key, p: seen.append(("result", key)))
    svc.modelLoaded.connect(lambda title, device: seen.append(("loaded", title)))
    svc.reset.connect(lambda: seen.append(("reset", None)))
    try:
        svc.submit("film", _HeldFilm(rad, entered, release))
        assert entered.wait(60)
        release.set()
        svc.set_model(others[0])  # the old worker's answer and "loaded" notice arrive after the switch
        qtbot.wait(300)
        assert seen == [("reset", None)]
        assert svc.cached("film") is None and svc.model_title is None
        with qtbot.waitSignal(svc.result, timeout=600_000) as answer:  # the new model answers when asked
            svc.submit("film", rad)
        assert answer.args[1].model_name == svc._worker._classifier.card.name
    finally:
        release.set()
        svc.shutdown()


def test_switching_models_does_not_wait_for_the_film_in_flight(qtbot, shared_dir):
    """AI > Model while a film is being analysed: the switch returns at once (the old worker is not waited for),
    the old worker ends on its own and is let go, and nothing it says is shown or cached."""
    import threading

    from cxviewer.imaging import read_radiograph
    from cxviewer.model import default_model_dir
    from cxviewer.ui.ai.inference import InferenceService

    others = [c.directory for c in available_models() if c.directory.resolve() != default_model_dir().resolve()]
    if not others:
        pytest.skip("only one bundled model")
    rad = read_radiograph(shared_dir / "data/dicom/CR-MONO1-10-chest.dcm")
    entered, release = threading.Event(), threading.Event()

    svc = InferenceService(preload=False)
    results = []
    svc.result.connect(lambda key, p: results.append(key))
    try:
        svc.submit("film", _HeldFilm(rad, entered, release))
        assert entered.wait(60)
        old = svc._worker
        svc.set_model(others[0])  # with the old worker still holding the film
        assert old.isRunning() and svc._worker is not old and old in svc._retired
        release.set()
        qtbot.waitUntil(lambda: not svc._retired, timeout=60_000)  # ended, and let go
        qtbot.wait(100)
        assert results == [] and svc.cached("film") is None
    finally:
        release.set()
        svc.shutdown()


class _HeldFilm:
    """``rad`` as the worker sees it, except that reading its pixels sets ``entered`` and waits for ``release``:
    the worker holds this film until the test lets it go."""

    def __init__(self, rad, entered, release):
        self._rad, self._entered, self._release = rad, entered, release

    @property
    def pixels(self):
        self._entered.set()
        self._release.wait(60)
        return self._rad.pixels

    def __getattr__(self, name):
        return getattr(self._rad, name)
