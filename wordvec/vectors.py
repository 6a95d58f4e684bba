"""Trained word vectors and the queries users know from gensim.

:class:`Vectors` holds the words (in frequency order when known), their index, an ``(n, dim)``
float32 matrix and, lazily, a unit-normalised copy. Queries are matrix products over the whole
vocabulary; query words are excluded from results. Subclasses answer for words outside the
vocabulary by overriding :meth:`Vectors.oov_vector`: :class:`FastTextVectors` does, from
character n-grams. Loading vectors never imports a training module or kernel.
"""

from __future__ import annotations

import numpy as np

from .errors import WordvecError
from .params import MAX_NGRAM


class Vectors:
    """Word vectors: ``words``, ``index`` (word -> row), ``matrix`` (float32, n x dim)."""

    def __init__(self, words, matrix, counts=None, meta: dict | None = None):
        self.words = list(words)
        self.matrix = matrix if isinstance(matrix, np.memmap) else np.asarray(matrix, dtype=np.float32)
        if self.matrix.ndim != 2 or self.matrix.shape[0] != len(self.words):
            raise WordvecError(
                f"vectors: {len(self.words)} words but a matrix of shape {self.matrix.shape}")
        self.counts = None if counts is None else np.asarray(counts, dtype=np.int64)
        self.index = {}
        for i, w in enumerate(self.words):
            self.index.setdefault(w, i)
        self.meta = dict(meta or {})  # kind, params, stats: what the native format stores
        self._unit = None

    # ---- basics ----------------------------------------------------------------------------
    def __len__(self):
        return len(self.words)

    @property
    def dim(self):
        return self.matrix.shape[1]

    def __contains__(self, word):
        return word in self.index

    def head(self, n: int) -> Vectors:
        """The ``n`` first (most frequent) words, as vectors of the same class."""
        n = min(int(n), len(self))
        return type(self)(self.words[:n], self.matrix[:n],
                          None if self.counts is None else self.counts[:n], self.meta)

    def has_vector(self, word: str) -> bool:
        """True if a vector can be given for ``word`` (in the vocabulary, or built for it)."""
        if word in self.index:
            return True
        try:
            self.oov_vector(word)
        except KeyError:
            return False
        return True

    def __getitem__(self, word: str) -> np.ndarray:
        i = self.index.get(word)
        if i is not None:
            return np.asarray(self.matrix[i])
        return self.oov_vector(word)

    def oov_vector(self, word):
        """Vector for a word outside the vocabulary; plain vectors have none."""
        raise KeyError(f"word {word!r} is not in the vocabulary")

    def __repr__(self):
        return f"{type(self).__name__}({len(self):,} words, dim {self.dim})"

    @property
    def unit(self):
        """Unit-normalised float32 copy of the matrix (rows of zero norm stay zero), cached."""
        if self._unit is None:
            m = np.asarray(self.matrix, dtype=np.float32)
            norms = np.linalg.norm(m, axis=1, keepdims=True)
            norms[norms == 0] = 1.0
            self._unit = m / norms
        return self._unit

    def unit_vector(self, word):
        i = self.index.get(word)
        if i is not None:
            return self.unit[i]
        v = np.asarray(self.oov_vector(word), dtype=np.float32)
        n = np.linalg.norm(v)
        return v / n if n > 0 else v

    def _require(self, words):
        for w in words:
            if not self.has_vector(w):
                raise WordvecError(f"word {w!r} is not in the vocabulary")

    # ---- queries ---------------------------------------------------------------------------
    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of two words."""
        self._require([a, b])
        return float(np.dot(self.unit_vector(a), self.unit_vector(b)))

    def most_similar(self, positive=(), negative=(), topn: int = 10,
                     restrict: int | None = None) -> list[tuple[str, float]]:
        """Words nearest to the mean of unit ``positive`` minus unit ``negative`` vectors.

        ``positive``/``negative`` take words or vectors; ``restrict`` limits candidates to the
        first N (most frequent) words. Returns ``[(word, cosine), ...]`` without the query words.
        """
        if isinstance(positive, str):
            positive = [positive]
        if isinstance(negative, str):
            negative = [negative]
        items = [(p, 1.0) for p in positive] + [(n, -1.0) for n in negative]
        if not items:
            raise WordvecError("most_similar needs at least one word")
        query = np.zeros(self.dim, dtype=np.float32)
        exclude = []
        for item, weight in items:
            if isinstance(item, str):
                self._require([item])
                query += weight * self.unit_vector(item)
                if item in self.index:
                    exclude.append(self.index[item])
            else:
                query += weight * np.asarray(item, dtype=np.float32)
        return self._top(query, exclude, topn, restrict)

    def _top(self, query, exclude, topn, restrict):
        unit = self.unit if restrict is None else self.unit[:_positive("restrict", restrict)]
        norm = np.linalg.norm(query)
        scores = unit @ (query / norm if norm > 0 else query)
        return self._rank(scores, exclude, topn)

    def _rank(self, scores, exclude, topn):
        scores = np.array(scores, dtype=np.float32)
        for i in exclude:
            if i < len(scores):
                scores[i] = -np.inf
        k = min(_positive("topn", topn), len(scores))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.words[i], float(scores[i])) for i in top if np.isfinite(scores[i])]

    def analogy(self, a: str, b: str, c: str, topn: int = 1, method: str = "add",
                restrict: int | None = None) -> list[tuple[str, float]]:
        """Answer ``a - b + c`` ("king man woman" -> "queen"), the query words excluded.

        ``method="add"`` is 3CosAdd, ``"mul"`` is 3CosMul (Levy & Goldberg 2014):
        ``cos'(x,a) cos'(x,c) / (cos'(x,b) + 0.001)`` with ``cos' = (cos + 1) / 2``.
        """
        self._require([a, b, c])
        if method == "add":
            return self.most_similar(positive=[a, c], negative=[b], topn=topn, restrict=restrict)
        if method != "mul":
            raise WordvecError(f"unknown analogy method {method!r}: use 'add' or 'mul'")
        unit = self.unit if restrict is None else self.unit[:_positive("restrict", restrict)]
        va, vb, vc = (self.unit_vector(w) for w in (a, b, c))
        scores = cos_mul(unit @ va, unit @ vb, unit @ vc)
        exclude = [self.index[w] for w in (a, b, c) if w in self.index]
        return self._rank(scores, exclude, topn)

    def doesnt_match(self, words) -> str:
        """The word furthest from the mean of the others' unit vectors."""
        words = list(words)
        if len(words) < 2:
            raise WordvecError("doesnt_match needs at least two words")
        self._require(words)
        vecs = np.stack([self.unit_vector(w) for w in words])
        mean = vecs.mean(axis=0)
        mean /= np.linalg.norm(mean) or 1.0
        return words[int(np.argmin(vecs @ mean))]


def _positive(name, value):
    """``value`` as an int >= 1 (a negative slice bound would silently mean "all but the last")."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise WordvecError(f"{name} must be a positive integer (got {value!r})")
    return int(value)


def cos_mul(sim_a, sim_b, sim_c, eps=1e-3):
    """3CosMul scores from cosines to a (positive), b (negative), c (positive)."""
    return ((sim_a + 1) / 2) * ((sim_c + 1) / 2) / ((sim_b + 1) / 2 + eps)


class FastTextVectors(Vectors):
    """Word vectors plus the n-gram matrix (``bucket`` x dim) and hashing parameters."""

    def __init__(self, words, matrix, ngrams, minn, maxn, bucket, counts=None, meta=None):
        super().__init__(words, matrix, counts=counts, meta=meta)
        self.minn, self.maxn, self.bucket = int(minn), int(maxn), int(bucket)
        if ngrams is None:
            ngrams = np.zeros((0, self.dim), dtype=np.float32)
        if ngrams.ndim != 2 or ngrams.shape[1] != self.dim or (
                self.maxn > 0 and ngrams.shape[0] != self.bucket):
            raise WordvecError(f"fastText vectors: n-gram matrix of shape {ngrams.shape} does "
                               f"not match bucket {self.bucket} and dim {self.dim}")
        self.ngrams = ngrams

    def head(self, n):
        """The ``n`` first (most frequent) words, still answering for unseen words."""
        n = min(int(n), len(self))
        return type(self)(self.words[:n], self.matrix[:n], self.ngrams, self.minn, self.maxn,
                          self.bucket, None if self.counts is None else self.counts[:n],
                          self.meta)

    def ngram_rows(self, word):
        """Indices into :attr:`ngrams` of ``word``'s character n-grams (fastText's order)."""
        if self.maxn <= 0 or self.bucket < 1:
            return np.zeros(0, dtype=np.int64)
        from .subwords import ngram_buckets
        return ngram_buckets(word, self.minn, self.maxn, self.bucket)

    def oov_vector(self, word):
        """Mean of the n-gram rows of an unseen ``word``; KeyError if it has no n-grams."""
        rows = self.ngram_rows(word)
        if len(rows) == 0:
            if self.maxn <= 0:
                raise KeyError(f"no vector for {word!r}: it is not in the vocabulary and this "
                               "model has no subwords (maxn 0)")
            raise KeyError(f"no vector for {word!r}: not in the vocabulary and no character "
                           f"n-grams of length {self.minn}..{self.maxn}")
        return np.asarray(self.ngrams[rows], dtype=np.float32).mean(axis=0, dtype=np.float32)

    def _require(self, words):
        for w in words:
            if w not in self.index:
                try:
                    self.oov_vector(w)
                except KeyError as e:
                    raise WordvecError(e.args[0]) from None

    def __repr__(self):
        return (f"FastTextVectors({len(self):,} words, dim {self.dim}, n-grams "
                f"{self.minn}..{self.maxn} in {self.bucket:,} buckets)")

    # ---- native format ---------------------------------------------------------------------
    def native_state(self):
        fields = {"minn": self.minn, "maxn": self.maxn, "bucket": self.bucket}
        arrays = {"ngrams": self.ngrams} if self.ngrams.shape[0] else {}
        return fields, arrays

    @classmethod
    def from_native(cls, words, matrix, counts, meta, fields, arrays):
        values = {}
        for k in ("minn", "maxn", "bucket"):
            v = fields.get(k) if isinstance(fields, dict) else None
            if v is None:
                raise WordvecError(f"fastText model: field {k!r} missing from model.json")
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
                raise WordvecError(f"fastText model: model.json field {k!r} must be an "
                                   f"integer >= 0, not {v!r}"[:160])
            values[k] = int(v)
        minn, maxn, bucket = values["minn"], values["maxn"], values["bucket"]
        if maxn > MAX_NGRAM:
            raise WordvecError(f"fastText model: maxn {maxn} in model.json is out of range "
                               f"(0..{MAX_NGRAM})")
        if maxn > 0:
            if not 1 <= minn <= maxn:
                raise WordvecError(f"fastText model: model.json has minn {minn} and maxn {maxn} "
                                   "(needs 1 <= minn <= maxn)")
            if bucket < 1 or len(words) + bucket >= 2**31:
                raise WordvecError(f"fastText model: bucket {bucket} in model.json is out of "
                                   "range (1 to 2**31 minus the vocabulary size)")
        ngrams = arrays.get("ngrams")
        if maxn > 0 and ngrams is None:
            raise WordvecError("fastText model: the n-gram matrix (ngrams.npy) is missing")
        if ngrams is not None and ngrams.dtype.kind != "f":
            raise WordvecError(f"fastText model: the n-gram matrix must be floating point, "
                               f"not {ngrams.dtype}")
        v = cls(words, matrix, ngrams, minn, maxn, bucket, counts=counts, meta=meta)
        v.arrays = {k: a for k, a in arrays.items() if k != "ngrams"}
        return v
