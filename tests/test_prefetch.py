"""The software prefetch used by the kernels: a hint that changes no value and takes only rows."""

import numpy as np
import pytest
from numba import njit
from numba.core.errors import TypingError

from wordvec.prefetch import prefetch_row


@njit(cache=False)
def _sum_rows_prefetching(A, idx, ahead):
    s = 0.0
    for i in range(idx.shape[0]):
        if i + ahead < idx.shape[0]:
            prefetch_row(A, idx[i + ahead])
        for k in range(A.shape[1]):
            s += A[idx[i], k]
    return s


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32])
def test_prefetch_changes_nothing(dtype):
    rng = np.random.default_rng(0)
    A = (rng.random((300, 37)) * 100).astype(dtype)  # rows not a multiple of a cache line
    before = A.copy()
    idx = rng.integers(0, 300, 1000)
    got = _sum_rows_prefetching(A, idx, 3)
    assert got == pytest.approx(float(A[idx].astype(np.float64).sum()), rel=1e-9)
    assert np.array_equal(A, before)


def test_prefetch_takes_only_rows_of_contiguous_matrices():
    @njit(cache=False)
    def one_dim(a):
        prefetch_row(a, 0)

    with pytest.raises(TypingError):
        one_dim(np.zeros(4, np.float32))
