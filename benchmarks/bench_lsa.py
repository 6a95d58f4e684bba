"""LSA benchmark: PPMI-SVD and tf-idf LSA, stage times, peak RSS, quality, SVD vs scikit-learn.

    python benchmarks/bench_lsa.py [--corpus PATH] [--modes ppmi,tfidf] [--dim 300]
        [--window 5] [--threads 2] [--svd-compare] [--sg-json FILE] [--json OUT]

Each mode runs in its own process (so peak RSS is that mode's alone): encode the corpus
(min_count 5), build the matrix (co-occurrence counting + PPMI, or term–document counts +
weighting), our truncated SVD, then the Google analogy set (30k restriction, 3CosAdd and
3CosMul), WS-353, SimLex-999 and MEN. Peak RSS is read right after our SVD, before anything
else runs. Then, on the very same matrix, scikit-learn's ``TruncatedSVD`` (randomized, its
defaults: n_iter 5, 10 oversamples) is timed and its vectors evaluated the same way.
``--svd-compare`` adds ARPACK (scipy ``svds``) as the exact reference and a sweep over our
``svd_iter``: singular-value error and similarity scores per setting (slow on big corpora).

The skip-gram line comes from ``--sg-json`` (a ``wordvec.evaluate.benchmark`` result, or a
flat {"analogy", "ws353", "simlex", "men"} object) or else the gensim skip-gram figures of
the word2vec issue on bench-en (dim 100, window 5, neg 5, sample 1e-4, 5 epochs).
The write-up starts with a run record (date, commit, machine, versions, corpus checksum).
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import BENCH_CORPUS, HERE, peak_rss_mb, run_json, run_record, shown, table  # noqa: E402

SG_REFERENCE = {"label": "gensim 4.4 skip-gram (word2vec issue, bench-en)", "analogy": 37.7,
                "ws353": 0.601, "simlex": 0.333, "men": 0.645}
CHILD = f"import sys\nsys.path.insert(0, {HERE!r})\nfrom bench_lsa import child as main\n"
SIMS = (("ws353", "EN-WS-353-ALL"), ("simlex", "EN-SIMLEX-999"), ("men", "EN-MEN-TR-3k"))


# ---- evaluation (wordvec.evaluate, or a small fallback) ---------------------------------------
def evaluate(vectors, method="add", analogy=True):
    """{"analogy": %, "semantic", "syntactic", "ws353", "simlex", "men"} for ``vectors``."""
    from wordvec import evaluate as ev

    out = {}
    if analogy:
        r = ev.evaluate_analogy(vectors, ev.dataset_path("questions-words"), restrict=30000,
                                method=method)
        for key in ("accuracy", "semantic", "syntactic"):
            out["analogy" if key == "accuracy" else key] = (
                None if r.get(key) is None else round(100 * r[key], 2))
        out["analogy_coverage"] = f"{r['questions']}/{r['total']}"
    for short, name in SIMS:
        r = ev.evaluate_similarity(vectors, ev.dataset_path(name))
        out[short] = None if r["spearman"] is None else round(r["spearman"], 4)
    return out


# ---- one mode, in its own process ------------------------------------------------------------
def child(mode, corpus, params_json):
    import time

    import numpy as np

    from wordvec.encode import encode
    from wordvec.lsa import check_dim, lsa_matrix, word_vectors
    from wordvec.svd import truncated_svd
    from wordvec.vectors import Vectors

    p = json.loads(params_json)
    eig = p["eig"] if p["eig"] is not None else (0.5 if mode == "ppmi" else 1.0)
    out = {"mode": mode}
    t = time.perf_counter()
    enc = encode(corpus, min_count=p["min_count"])
    out["encode_s"] = time.perf_counter() - t
    out["tokens"] = enc.n_tokens
    vocab, M, stats = lsa_matrix(enc, matrix=mode, window=p["window"], memory_gb=p["memory"],
                                 weighting=p["weighting"], doc_lines=p["doc_lines"],
                                 threads=p["threads"], progress=False)
    enc.close()
    check_dim(p["dim"], M.shape)
    # load the Numba kernels from their cache first, so the SVD time is the algorithm's
    import scipy.sparse as sp

    truncated_svd(sp.random(50, 40, density=0.2, format="csr", random_state=0), 3, right=True)
    out.update(count_s=stats["count_seconds"], weight_s=stats["weight_seconds"],
               shape=list(M.shape), nnz=int(M.nnz),
               count_nnz=stats.get("cooccur_nnz", stats.get("termdoc_nnz")))
    t = time.perf_counter()
    ppmi = mode == "ppmi"  # the trainer's default there is W + C: it needs the right vectors
    U, s, Vr, _ = truncated_svd(M, p["dim"], n_iter=p["svd_iter"], oversample=p["oversample"],
                                seed=1, threads=p["threads"], right=ppmi)
    out["svd_s"] = time.perf_counter() - t
    out["peak_rss_ours_mb"] = peak_rss_mb()
    out["total_s"] = out["encode_s"] + out["count_s"] + out["weight_s"] + out["svd_s"]

    def vectors(U, s, right=None):
        return Vectors(vocab.words, word_vectors(U, s, right, eig), counts=vocab.counts)

    ours = vectors(U, s, Vr)
    out["eval_add"] = evaluate(ours, "add")
    out["eval_mul"] = evaluate(ours, "mul")
    out["s_ours"] = [float(x) for x in s]
    if ppmi:  # other ways to read the same SVD: W alone with eig 0.5 / 0 / 1 (Levy et al.)
        out["variants"] = []
        for label, e, right in (("W only, eig 0.5", 0.5, None), ("W only, eig 0", 0.0, None),
                                ("W only, eig 1", 1.0, None)):
            v = Vectors(vocab.words, word_vectors(U, s, right, e), counts=vocab.counts)
            out["variants"].append({"label": label, **evaluate(v, "add")})

    if p["sklearn"]:
        try:
            from sklearn.decomposition import TruncatedSVD
        except ImportError:
            out["sklearn"] = None
        else:
            t = time.perf_counter()
            svd = TruncatedSVD(p["dim"], algorithm="randomized", random_state=1)
            X = svd.fit_transform(M)
            sec = time.perf_counter() - t
            s_sk = svd.singular_values_
            out["sklearn"] = {"svd_s": sec, "eval_add": evaluate(vectors(X / s_sk, s_sk), "add"),
                              "s": [float(x) for x in s_sk]}
    if p["svd_compare"]:
        out["compare"] = _compare(M, p, np, truncated_svd, vectors, out)
    return out


def _compare(M, p, np, truncated_svd, vectors, out):
    """ARPACK reference, then our SVD for each svd_iter: error of singular values, scores."""
    import time

    rows = []
    t = time.perf_counter()
    U0, s0, _, _ = truncated_svd(M, p["dim"], method="arpack", threads=p["threads"])
    ref_s = time.perf_counter() - t

    def err(s):
        rel = np.abs(np.asarray(s)[: len(s0)] - s0) / s0
        return float(rel.mean()), float(rel.max())

    rows.append({"svd": "ARPACK (scipy svds)", "seconds": ref_s, "err": (0.0, 0.0),
                 **evaluate(vectors(U0, s0), analogy=False)})
    for q in p["sweep"]:
        t = time.perf_counter()
        U, s, _, _ = truncated_svd(M, p["dim"], n_iter=q, oversample=p["oversample"], seed=1,
                                   threads=p["threads"])
        rows.append({"svd": f"ours randomized, svd_iter {q}", "seconds": time.perf_counter() - t,
                     "err": err(s), **evaluate(vectors(U, s), analogy=False)})
    if out.get("sklearn"):
        sk = out["sklearn"]
        rows.append({"svd": "sklearn TruncatedSVD (n_iter 5)", "seconds": sk["svd_s"],
                     "err": err(sk["s"]), **{k: sk["eval_add"][k] for k, _ in SIMS}})
    return rows


# ---- report ----------------------------------------------------------------------------------
def _sg(path):
    if not path:
        return SG_REFERENCE
    with open(path) as f:
        r = json.load(f)
    if "similarity" in r:  # a wordvec.evaluate.benchmark result
        sim = r["similarity"]
        return {"label": f"skip-gram ({os.path.basename(path)})",
                "analogy": round(100 * r["analogy"]["questions-words"]["accuracy"], 2),
                **{short: sim[name]["spearman"] for short, name in SIMS}}
    return {"label": f"skip-gram ({os.path.basename(path)})", **r}


def _f(x, fmt):
    return "-" if x is None else format(x, fmt)


def report(results, sg, args):
    print(f"\ncorpus {shown(args.corpus)}: min_count {args.min_count}, dim {args.dim}, window "
          f"{args.window} (ppmi), threads {args.threads}\n")
    rows = []
    for r in results:
        rows.append((r["mode"], f"{r['tokens']:,}", f"{r['shape'][0]:,} x {r['shape'][1]:,}",
                     f"{r['count_nnz']:,}", f"{r['nnz']:,}", f"{r['encode_s']:.1f}",
                     f"{r['count_s']:.1f}", f"{r['weight_s']:.1f}", f"{r['svd_s']:.1f}",
                     f"{r['total_s']:.1f}", f"{r['peak_rss_ours_mb']:.0f}"))
    print(table(["mode", "tokens", "matrix", "counts nnz", "weighted nnz", "encode s",
                 "count s", "weight s", "SVD s", "total s", "peak RSS MB"], rows))
    print()
    rows = []
    for r in results:
        for method in ("add", "mul"):
            e = r[f"eval_{method}"]
            rows.append((f"LSA {r['mode']}" + (" (W + C, default)" if r["mode"] == "ppmi" else ""),
                         "3Cos" + method.capitalize(), _f(e["analogy"], ".2f"),
                         _f(e["semantic"], ".2f"), _f(e["syntactic"], ".2f"),
                         e["analogy_coverage"], _f(e["ws353"], ".3f"), _f(e["simlex"], ".3f"),
                         _f(e["men"], ".3f")))
        if r.get("sklearn"):
            e = r["sklearn"]["eval_add"]
            rows.append((f"LSA {r['mode']}, sklearn SVD", "3CosAdd", _f(e["analogy"], ".2f"),
                         _f(e["semantic"], ".2f"), _f(e["syntactic"], ".2f"),
                         e["analogy_coverage"], _f(e["ws353"], ".3f"), _f(e["simlex"], ".3f"),
                         _f(e["men"], ".3f")))
        for e in r.get("variants", []):
            rows.append((f"LSA {r['mode']}, {e['label']}", "3CosAdd", _f(e["analogy"], ".2f"),
                         _f(e["semantic"], ".2f"), _f(e["syntactic"], ".2f"),
                         e["analogy_coverage"], _f(e["ws353"], ".3f"), _f(e["simlex"], ".3f"),
                         _f(e["men"], ".3f")))
    rows.append((sg["label"], "3CosAdd", _f(sg.get("analogy"), ".2f"), "", "", "",
                 _f(sg.get("ws353"), ".3f"), _f(sg.get("simlex"), ".3f"), _f(sg.get("men"), ".3f")))
    print(table(["vectors", "analogy", "total %", "sem %", "syn %", "questions", "WS-353",
                 "SimLex", "MEN"], rows))
    print()
    rows = []
    for r in results:
        sk = r.get("sklearn")
        if sk:
            n = min(len(sk["s"]), len(r["s_ours"]))
            ratio = sum(x * x for x in r["s_ours"][:n]) / sum(x * x for x in sk["s"][:n])
            rows.append((r["mode"], f"{r['svd_s']:.2f}", f"{sk['svd_s']:.2f}",
                         f"{sk['svd_s'] / r['svd_s']:.2f}x", f"{ratio:.4f}"))
    if rows:
        print("SVD step on the same matrix (Σσ² ratio > 1: ours captures more of the matrix)")
        print(table(["mode", "ours s", "sklearn s", "sklearn/ours", "Σσ² ours/sklearn"], rows))
        print()
    for r in results:
        if r.get("compare"):
            print(f"SVD accuracy, {r['mode']} matrix (error of singular values vs ARPACK)")
            print(table(["SVD", "seconds", "mean rel err", "max rel err", "WS-353", "SimLex",
                         "MEN"],
                        [(c["svd"], f"{c['seconds']:.2f}", f"{c['err'][0]:.4f}",
                          f"{c['err'][1]:.4f}", _f(c["ws353"], ".3f"), _f(c["simlex"], ".3f"),
                          _f(c["men"], ".3f")) for c in r["compare"]]))
            print()
    ppmi = next((r for r in results if r["mode"] == "ppmi"), None)
    if ppmi:
        e = ppmi["eval_add"]
        checks = [("PPMI WS-353 within 0.03 of skip-gram", e["ws353"], sg.get("ws353")),
                  ("PPMI MEN within 0.03 of skip-gram", e["men"], sg.get("men"))]
        for label, ours, theirs in checks:
            if ours is not None and theirs is not None:
                ok = ours >= theirs - 0.03
                print(f"target: {label}: {ours:.3f} vs {theirs:.3f} -> {'met' if ok else 'MISSED'}")
    for r in results:
        if r.get("sklearn"):
            ok = r["svd_s"] <= r["sklearn"]["svd_s"]
            print(f"target: {r['mode']} SVD no slower than sklearn: {r['svd_s']:.1f} s vs "
                  f"{r['sklearn']['svd_s']:.1f} s -> {'met' if ok else 'MISSED'}")
        ok = r["peak_rss_ours_mb"] < 4096
        print(f"target: {r['mode']} peak RSS below 4 GB: {r['peak_rss_ours_mb']:.0f} MB -> "
              f"{'met' if ok else 'MISSED'}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=BENCH_CORPUS)
    ap.add_argument("--modes", default="ppmi,tfidf", help="comma-separated: ppmi, tfidf")
    ap.add_argument("--min-count", type=int, default=5)
    ap.add_argument("--dim", type=int, default=300)
    ap.add_argument("--window", type=int, default=5)
    ap.add_argument("--eig", type=float, default=None)
    ap.add_argument("--weighting", default="tfidf", choices=("tfidf", "log-entropy"))
    ap.add_argument("--doc-lines", type=int, default=1)
    ap.add_argument("--memory", type=float, default=2.0, help="co-occurrence budget, GB")
    ap.add_argument("--svd-iter", type=int, default=None, help="default: wordvec.svd's")
    ap.add_argument("--oversample", type=int, default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-sklearn", action="store_true", help="skip sklearn's TruncatedSVD")
    ap.add_argument("--svd-compare", action="store_true",
                    help="also ARPACK and a sweep over svd_iter (slow on big corpora)")
    ap.add_argument("--sweep", default="2,4,6,8", help="svd_iter values for --svd-compare")
    ap.add_argument("--sg-json", default=None, help="skip-gram evaluation JSON to compare with")
    ap.add_argument("--json", default=None, help="write all results here")
    args = ap.parse_args()
    from wordvec.svd import DEFAULT_N_ITER, DEFAULT_OVERSAMPLE

    params = {"min_count": args.min_count, "dim": args.dim, "window": args.window,
              "eig": args.eig, "weighting": args.weighting, "doc_lines": args.doc_lines,
              "memory": args.memory, "threads": args.threads,
              "svd_iter": DEFAULT_N_ITER if args.svd_iter is None else args.svd_iter,
              "oversample": DEFAULT_OVERSAMPLE if args.oversample is None else args.oversample,
              "sklearn": not args.no_sklearn, "svd_compare": args.svd_compare,
              "sweep": [int(x) for x in args.sweep.split(",") if x]}
    print(run_record(tools=() if args.no_sklearn else ("scikit-learn",), corpus=args.corpus),
          flush=True)
    results = []
    for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
        print(f"running {mode} ...", file=sys.stderr, flush=True)
        results.append(run_json(CHILD, mode, os.path.abspath(args.corpus), json.dumps(params)))
    sg = _sg(args.sg_json)
    report(results, sg, args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"params": params, "results": results, "skipgram": sg}, f, indent=1)


if __name__ == "__main__":
    main()
