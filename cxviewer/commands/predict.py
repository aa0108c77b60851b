"""``cxviewer predict FILE [--json]``: label, probabilities, model name and version, timing."""

from __future__ import annotations

import argparse
import json
import sys
import time

from cxviewer.commands.runtime_option import add_runtime_argument


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="a DICOM file or a PNG/JPEG/WebP/TIFF image")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--model", default=None, help="model folder (default: the bundled model)")
    parser.add_argument("--gradcam", action="store_true", help="also compute Grad-CAM (reports its share of the timing)")
    add_runtime_argument(parser)


def run(args: argparse.Namespace) -> int:
    from cxviewer.imaging import UnreadableImageError, read_radiograph
    from cxviewer.model import ModelCardError, load_classifier

    t0 = time.perf_counter()
    try:
        rad = read_radiograph(args.file)
    except UnreadableImageError as exc:
        print(f"cxviewer predict: {args.file}: {exc}", file=sys.stderr)
        return 1
    t_read = time.perf_counter()
    try:
        clf = load_classifier(args.model, args.runtime)
    except ModelCardError as exc:
        print(f"cxviewer predict: {exc}", file=sys.stderr)
        return 1
    t_load = time.perf_counter()
    pred = clf.predict_radiograph(rad, gradcam=args.gradcam, outline=False)
    result = {
        "file": str(args.file),
        **pred.as_dict(),
        "timing_ms": {
            "read": round((t_read - t0) * 1000, 1),
            "load_model": round((t_load - t_read) * 1000, 1),
            "predict": round(pred.elapsed_ms, 1),
        },
    }
    if args.json:
        print(json.dumps(result))
    elif not pred.in_scope:
        print(f"{args.file}: outside the model's scope: {pred.scope_text.rstrip('.')}. No opinion is given.")
    else:
        probs = "  ".join(f"{k} {v:.3f}" for k, v in result["probabilities"].items())
        print(f"{args.file}: {pred.label}  ({probs})")
        print(f"model {pred.model_name} {pred.model_version} on {pred.device} ({pred.runtime}); read {result['timing_ms']['read']} ms, "
              f"model load {result['timing_ms']['load_model']} ms, inference {result['timing_ms']['predict']} ms")
        if pred.lung_crop == "lungs not found":
            print("Lungs not found: the model saw the whole film instead of its usual lung crop. Read with extra care.")
        print("Research software, not a medical device: not a diagnosis.")
    return 0
