"""The labelled training folder (``manifest.csv`` layout) and its patient-level split.

Images of one patient never straddle two splits. Sources without patient IDs (COVID-CXNet)
count each image as its own patient, except near-duplicate pairs, which are kept together.
"""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# The classes a new model is trained on, in its output order; training writes them into the model card
# (evaluate.base_card). Everything that uses a trained model reads the card's labels instead.
TRAINING_LABELS = ("covid", "pneumonia", "normal")
SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Sample:
    path: Path
    label: str
    source: str
    group: str
    mask_path: Path | None
    license: str
    view: str = ""


def label_indices(samples: list[Sample], labels: tuple[str, ...]) -> np.ndarray:
    """Each sample's class as its index in ``labels`` (a model card's output order).

    Raises ValueError naming the classes the model does not have: a model trained on other labels
    cannot be scored on this folder.
    """
    missing = sorted({s.label for s in samples} - set(labels))
    if missing:
        raise ValueError(f"the model's labels ({', '.join(labels)}) lack {', '.join(missing)}, found in the data")
    order = {label: i for i, label in enumerate(labels)}
    return np.array([order[s.label] for s in samples], dtype=np.int64)


def read_manifest(root: str | Path, labels: tuple[str, ...] = TRAINING_LABELS) -> list[Sample]:
    """The samples of ``root/manifest.csv`` whose label is one of ``labels`` (others are left out)."""
    root = Path(root)
    pairs = _near_duplicate_groups(root)
    samples = []
    with open(root / "manifest.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["label"] not in labels:
                continue
            path = row["path"]
            group = row["patient_id"] or pairs.get(path, f"image:{path}")
            samples.append(
                Sample(
                    path=root / path,
                    label=row["label"],
                    source=row["source"],
                    group=group,
                    mask_path=(root / row["mask_path"]) if row.get("mask_path") else None,
                    license=row.get("license", ""),
                    view=row.get("view", "") or "",
                )
            )
    return samples


def _near_duplicate_groups(root: Path) -> dict[str, str]:
    """Map each image of a near-duplicate pair to one shared group name."""
    groups: dict[str, str] = {}
    path = root / "near_duplicates.csv"
    if not path.exists():
        return groups
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    for row in rows[1:]:
        members = [c for c in row if c.endswith((".jpg", ".png", ".jpeg"))]
        if len(members) < 2:
            continue
        name = groups.get(members[0]) or groups.get(members[1]) or f"dup:{members[0]}"
        for m in members:
            groups[m] = name
    return groups


def split_by_patient(
    samples: list[Sample], seed: int = 20201, fractions: tuple[float, float, float] = (0.7, 0.15, 0.15)
) -> dict[str, list[Sample]]:
    """Stratified group split: groups are shuffled per (majority label, has-mask) stratum, then cut."""
    by_group: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        by_group[s.group].append(s)
    strata: dict[tuple[str, bool], list[str]] = defaultdict(list)
    for group, members in by_group.items():
        labels = [m.label for m in members]
        majority = max(sorted(set(labels)), key=labels.count)
        strata[(majority, any(m.mask_path for m in members))].append(group)
    rng = random.Random(seed)
    assignment: dict[str, str] = {}
    for key in sorted(strata):
        groups = sorted(strata[key])
        rng.shuffle(groups)
        n = len(groups)
        n_test = round(n * fractions[2])
        n_val = round(n * fractions[1])
        for i, g in enumerate(groups):
            assignment[g] = "test" if i < n_test else "val" if i < n_test + n_val else "train"
    out: dict[str, list[Sample]] = {k: [] for k in SPLITS}
    for s in samples:
        out[assignment[s.group]].append(s)
    return out
