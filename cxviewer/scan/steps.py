"""The named steps of a scan, shared by the local engine (``pipeline``) and the Ray engine (``ray_scan``).

1. discover: :func:`new_paths` walks the roots and leaves out what a previous run already wrote;
2. read/decode one file: :func:`examine` reads it through the imaging core, checks the model's scope
   rules and makes the model input with the model's :class:`~cxviewer.model.inputs.InputRecipe` (the one
   ``Classifier.prepare`` uses; no loaded model needed);
3. infer a batch: :class:`BatchInference` runs the classifier once per batch and fills the rows;
4. write rows: :class:`RowWriter` hands each row to the sink and keeps the counts.

Every step is Qt-free and never raises for a bad file: a file that cannot be read is an error row.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from cxviewer.model.inputs import InputRecipe
from cxviewer.scan.discovery import Discovery
from cxviewer.scan.results import ScanResult, probability_columns
from cxviewer.scan.state import ScanProgress

# LiteRT keeps every core busy during a forward pass: decoding at the same time only makes both wait for the
# CPU (XNNPACK's threads wait for each other), so the local engine pauses its decoders while the network runs.
SCAN_EXCLUSIVE = os.environ.get("CXVIEWER_SCAN_OVERLAP") != "1"  # benchmarks compare both ways


# 1. discover -----------------------------------------------------------------------------------------------


def new_paths(
    discovery: Discovery, skip: Collection[str], max_files: int | None, progress: ScanProgress
) -> Iterator[Path]:
    """The files still to scan, in discovery order: ``skip`` (already written) counted as done, at most ``max_files``."""
    submitted = 0
    for path in discovery:
        if str(path) in skip:
            progress.already_done += 1
            continue
        if max_files is not None and submitted >= max_files:
            return
        submitted += 1
        yield path


# 2. read/decode one file -----------------------------------------------------------------------------------


def load_readers() -> None:
    """Import what :func:`examine` uses, once, on the calling thread: imports first made by several decode
    threads at once can meet a half-initialised module (pydicom's, seen as "cannot import name 'UID'")."""
    import cxviewer.imaging.dicom_probe  # noqa: F401
    import cxviewer.imaging.reader  # noqa: F401
    import cxviewer.model.scope  # noqa: F401


@dataclass
class Examined:
    """One file after step 2: a final row, or a row waiting for the model with its prepared input."""

    result: ScanResult
    model_input: object | None = None  # prepared tensor, or (display image, segmenter input) for a cropping model
    decode_s: float = 0.0


def examine(path: str | os.PathLike, recipe: Callable | None) -> Examined:
    """Read one file, check it is in the model's scope and prepare the model input. Never raises for bad files.

    ``recipe`` (the model's :class:`InputRecipe`) makes the model input from the radiograph;
    ``None`` checks the file without preparing anything (a scan without a model).
    """
    from cxviewer.imaging import UnreadableImageError, read_radiograph
    from cxviewer.imaging.dicom_probe import is_non_image_object
    from cxviewer.model.scope import scope_problem

    start = time.perf_counter()
    p = os.fspath(path)

    def done(status: str, message: str = "", model_input=None, **meta) -> Examined:
        seconds = time.perf_counter() - start
        return Examined(ScanResult(path=p, status=status, error=message, ms=seconds * 1000.0, **meta), model_input, seconds)

    try:
        rad = read_radiograph(path)
    except UnreadableImageError as exc:  # the path is in its own column: keep the reason alone
        reason = getattr(exc, "reason", None) or str(exc) or "unreadable image"
        # A report, DICOMDIR or other non-image object is not broken, just not an image to triage.
        return done("out_of_scope" if is_non_image_object(path) else "error", reason)
    except MemoryError:
        return done("error", "not enough memory to decode this image")
    except Exception as exc:  # noqa: BLE001 - a reader bug must not end a night's scan; report it on the row
        return done("error", f"could not read the image ({type(exc).__name__}: {exc})")
    meta = {"patient_id": rad.patient_id or "", "study_uid": rad.study_uid or "", "sop_uid": rad.sop_uid or ""}
    try:
        reason = scope_problem(rad)
        if reason:
            return done("out_of_scope", reason, **meta)
        if recipe is None:
            return done("ok", **meta)
        model_input = recipe(rad)
    except MemoryError:
        return done("error", "not enough memory to prepare this image", **meta)
    except Exception as exc:  # noqa: BLE001 - reported on the row, as a reader failure
        return done("error", f"could not prepare the image for the model ({type(exc).__name__}: {exc})", **meta)
    return done("ok", model_input=model_input, **meta)


# 3. infer a batch ------------------------------------------------------------------------------------------


class BatchInference:
    """The classifier run once per batch of examined files; fills their rows (probabilities, call, OOD verdict).

    Probability columns come from the card's labels (:func:`probability_columns` refuses labels the results
    files cannot hold, before any file is read). A cropping model's batch is segmented in one run of the
    segmenter, then each film is cut and prepared on a small pool of threads (OpenCV releases the GIL).
    """

    def __init__(self, classifier, workers: int = 1):
        self.clf = classifier
        card = classifier.card
        self.tag = f"{card.name}@{card.version}"
        self.labels = tuple(card.labels)
        self.columns = probability_columns(self.labels)
        self.recipe = InputRecipe.of(classifier)  # both engines' decode steps (Ray's load no model)
        self.exclusive = getattr(classifier, "runtime", "") == "litert" and SCAN_EXCLUSIVE
        self._workers = max(1, workers)
        self._prep_pool: ThreadPoolExecutor | None = None

    def _prepare_cropped(self, inputs: list):
        import numpy as np

        images = [image for image, _ in inputs]
        segmenter = self.clf.segmenter
        probs = segmenter.probabilities(images, inputs=np.stack([s for _, s in inputs]))  # one batched run
        if self._prep_pool is None:
            self._prep_pool = ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="scan-prepare")

        def cut(image, prob):  # each film's mask cleaned and boxed, then the film cut and prepared, on the pool
            return self.clf.prepare_segmented(image, segmenter.result(image, prob))

        prepared = list(self._prep_pool.map(cut, images, probs))
        return np.stack([t for t, _ in prepared]), [g for _, g in prepared]

    def predictions(self, inputs: list) -> tuple[list, float]:
        """One Prediction per input (with the model's own OOD verdict), and the ms per image."""
        import numpy as np

        start = time.perf_counter()
        if self.recipe.crops:
            tensors, geometries = self._prepare_cropped(inputs)
            preds = self.clf.predict_prepared(tensors, geometries)
        else:
            preds = self.clf.predict_prepared(np.stack(inputs))
        share = (time.perf_counter() - start) * 1000.0 / max(1, len(inputs))
        return preds, share

    def fill(self, result: ScanResult, pred, share_ms: float) -> ScanResult:
        """The row of one classified file."""
        result.ms = (result.ms or 0.0) + share_ms
        result.model = self.tag
        result.runtime, result.device = pred.runtime, pred.device
        result.ood_score = pred.ood_score
        if not pred.in_scope:
            result.status, result.error = "out_of_scope", pred.scope_text
            return result
        scores = dict(zip(self.labels, pred.probabilities))
        for label, column in self.columns.items():
            setattr(result, column, scores.get(label))
        result.label = max(scores, key=scores.get)
        result.call = pred.call or ""
        result.confidence = pred.confidence
        return result

    def warm_up(self, batch_size: int, rounds: int = 2) -> None:
        """Run the network on a few full batches of a plain grey film, so that a fresh process's first files do not
        pay for its start (the first forward passes of a new interpreter are several times slower)."""
        import numpy as np

        film = np.full((512, 512), 128, np.uint8)
        film[64:448, 96:240] = film[64:448, 272:416] = 40  # two dark fields, roughly where lungs are
        inputs = [self.recipe.from_display(film)] * max(1, batch_size)
        for _ in range(rounds):
            self.predictions(inputs)

    def infer(self, items: list[Examined]) -> list[ScanResult]:
        """The rows of a batch, in its order; a failure of the whole batch (out of memory...) is an error row each."""
        try:
            preds, share = self.predictions([item.model_input for item in items])
        except Exception as exc:  # noqa: BLE001 - e.g. out of memory on the device: report, keep scanning
            rows = []
            for item in items:
                item.model_input = None
                r = item.result
                r.status, r.error = "error", f"classification failed ({type(exc).__name__}: {exc})"
                rows.append(r)
            return rows
        rows = []
        for item, pred in zip(items, preds):
            item.model_input = None
            rows.append(self.fill(item.result, pred, share))
        return rows

    def close(self) -> None:
        if self._prep_pool is not None:
            self._prep_pool.shutdown(wait=False, cancel_futures=True)


# 4. write rows ---------------------------------------------------------------------------------------------


class RowWriter:
    """Hands each finished row to ``on_result`` (the results files) and counts it for the progress display."""

    def __init__(
        self,
        on_result: Callable[[ScanResult], None],
        progress: ScanProgress,
        on_progress: Callable[[ScanProgress], None] | None = None,
        discovery: Discovery | None = None,
    ):
        self.on_result = on_result
        self.progress = progress
        self.on_progress = on_progress
        self.discovery = discovery

    def report(self) -> None:
        if self.discovery is not None:
            self.progress.ignored = self.discovery.ignored
        if self.on_progress is not None:
            self.on_progress(self.progress)

    def write(self, result: ScanResult) -> None:
        self.on_result(result)
        if result.status == "ok":
            self.progress.ok += 1
        elif result.status == "error":
            self.progress.errors += 1
        else:
            self.progress.out_of_scope += 1
        self.report()
