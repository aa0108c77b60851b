"""Seeded mutation fuzzing of the reader over the real DICOM files (``tests/dicom_fuzz.py``).

Default run: 200 mutations; ``-m slow``: 1,500. Each case runs in a supervised runner process,
so a decoder abort or a hang is counted instead of taking the test run down. Asserted: no
process death, no hang, no exception other than UnreadableImageError, only 2-D finite images,
the display draws every accepted image, and peak memory (runner and decoder workers) <= 1.5 GB.
"""

from __future__ import annotations

import collections

import pytest
from dicom_fuzz import run_cases

SEED = 15
PEAK_BYTES = 1_500_000_000


def _fuzz(dicom_dir, cases: int) -> None:
    sources = sorted(dicom_dir.glob("*.dcm"))
    summary = run_cases(sources, SEED, range(cases))
    counts = collections.Counter(o.result for o in summary.outcomes)
    contained = collections.Counter(
        kind for o in summary.outcomes for kind in ("crashed", "did not finish", "memory", "do not match the header")
        if o.result == "refused" and kind in o.detail
    )
    print(
        f"\n{cases} mutations in {summary.seconds:.0f} s: {dict(counts)}; refused by the codestream check or "
        f"contained in the decoder pool: {dict(contained)}; peak memory runner "
        f"{summary.peak_runner_rss / 2**20:.0f} MiB, decoder worker {summary.peak_worker_rss / 2**20:.0f} MiB"
    )
    failures = summary.failures()
    assert not failures, "\n".join(f"case {o.index} ({o.source}, {o.mutation}): {o.result}: {o.detail}" for o in failures[:20])
    assert len(summary.outcomes) == cases
    assert counts["accepted"] > 0 and counts["refused"] > 0  # both sides of the contract were exercised
    assert summary.peak_runner_rss <= PEAK_BYTES and summary.peak_worker_rss <= PEAK_BYTES


def test_mutated_dicom_files_keep_the_reader_contract(dicom_dir):
    _fuzz(dicom_dir, 200)


@pytest.mark.slow
def test_mutated_dicom_files_keep_the_reader_contract_1500(dicom_dir):
    _fuzz(dicom_dir, 1500)
