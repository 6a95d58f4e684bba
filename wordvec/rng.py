"""Explicit-state random numbers for Numba kernels.

A generator state is a ``uint64`` array of length 1 (one per thread or per job), so kernels stay
reproducible: the same seed gives the same stream whatever thread runs the job.
"""

import numpy as np
from numba import njit

_M = np.uint64(0x2545F4914F6CDD1D)


def seed_state(*seeds):
    """A fresh xorshift64* state (uint64[1]) derived from integers (e.g. seed, epoch, job)."""
    x = np.uint64(0x9E3779B97F4A7C15)
    for s in seeds:
        x = _splitmix(np.uint64(x ^ np.uint64(int(s) & 0xFFFFFFFFFFFFFFFF)))
    if x == 0:
        x = np.uint64(1)
    return np.array([x], dtype=np.uint64)


def _splitmix(x):
    with np.errstate(over="ignore"):
        x = np.uint64(x + np.uint64(0x9E3779B97F4A7C15))
        z = x
        z = np.uint64((z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9))
        z = np.uint64((z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB))
        return np.uint64(z ^ (z >> np.uint64(31)))


@njit(inline="always", nogil=True, cache=True)
def _step(state):
    """Advance an xorshift64* state; returns its product with the multiplier (64 bits)."""
    x = state[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    state[0] = x
    return x * _M


@njit(inline="always", nogil=True, cache=True)
def next_u32(state):
    """Next 32 random bits (as uint64 in 0..2**32-1) from an xorshift64* state."""
    return _step(state) >> np.uint64(32)


@njit(inline="always", nogil=True, cache=True)
def next_u53(state):
    """Next 53 random bits (as uint64) from an xorshift64* state."""
    return _step(state) >> np.uint64(11)


@njit(inline="always", nogil=True, cache=True)
def next_float(state):
    """Uniform float32 in [0, 1)."""
    return np.float32(next_u32(state) >> np.uint64(8)) * np.float32(1.0 / 16777216.0)


@njit(inline="always", nogil=True, cache=True)
def next_below(state, n):
    """Uniform integer in [0, n) (n < 2**32), by multiply-shift (no modulo bias worth noting)."""
    return np.int64((next_u32(state) * np.uint64(n)) >> np.uint64(32))


@njit(inline="always", nogil=True, cache=True)
def draw_alias(prob, alias, state):
    """One O(1) draw from a Walker/Vose alias table (see ``Vocabulary.noise_alias``)."""
    i = next_below(state, prob.shape[0])
    if next_float(state) < prob[i]:
        return i
    return np.int64(alias[i])
