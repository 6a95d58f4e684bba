"""A projected scaling table for wordvec on a Dask cluster (issue 15, benchmark d): counting and
skip-gram training of a large corpus on N nodes, from rates measured on one machine.

    python benchmarks/project_scaling.py --count-rate R --cooccur-rate R --train-rate R
        --link-mb-s B [--tokens 100e9] [--epochs 1] [--nodes 8,32,64] [--vocab 1e6] [--dim 300]
        [--sync-every N,...] [--cores-per-node 2] [--pairs-per-token P]

Nothing here is measured: every input is a rate measured by ``bench_distributed.py`` and
``bench_distributed_train.py`` (the README gives the command with the values it used), and the
output is what the model below predicts from them. The model, per job:

Counting (vocabulary; co-occurrences), a map over shards then a tree of merges:
    T = tokens / (N x cores x rate_per_core)                       (the map; shards >> N x cores)
      + shuffle / (N x link)                                       (co-occurrences only)
  where the co-occurrence shuffle moves each shard's row blocks to the workers that add them:
  at most ``pairs_per_token`` x tokens x 12 bytes (int32 column + int64 count per non-zero),
  spread over the N nodes' links. The merge tree's depth (log2 of the shards) and the
  vocabulary tables are ignored: small against the map at this size.

Training, data-parallel with model averaging (wordvec.distributed_train, as built):
    rounds  = tokens x epochs / (N x sync_every)
    compute = sync_every / rate_per_node                           (per round)
    S       = 2 x V x dim x 4 bytes                                (W and C, float32)
    sync    = S x (1 + ceil(log2 N)) / link                        (broadcast: driver -> one
                                                                    worker, then Dask's
                                                                    replication tree)
            + N x S / link                                         (gather: every replica
                                                                    into the driver's link)
    T       = rounds x (compute + sync)
and, for comparison, what a ring all-reduce between the workers would cost instead of the
broadcast and gather (not built in wordvec: each node sends and receives 2 x S x (N-1)/N):
    sync_ring = 2 x S x (N - 1) / N / link

``link`` is the usable bandwidth of one node's network link (one direction); a 10 Gbit/s link
is 1,250 MB/s on the wire, of which ``--link-efficiency`` (default 0.8) is assumed usable.
The driver's averaging (N x S of memory traffic) and the latency of a round (a few ms) are
left out; both only add to the star's cost.
"""

import argparse
import math


def fmt_time(s):
    if s < 10:
        return f"{s:.1f} s"
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:.1f} h"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count-rate", type=float, required=True,
                    help="vocabulary counting, tokens/s per core (task seconds, bench_distributed)")
    ap.add_argument("--cooccur-rate", type=float, required=True,
                    help="co-occurrence counting, tokens/s per core (task seconds)")
    ap.add_argument("--train-rate", type=float, required=True,
                    help="skip-gram training, corpus words/s per core on a worker "
                         "(bench_distributed_train.py: words / the workers' training compute)")
    ap.add_argument("--link-gbit", type=float, default=10.0)
    ap.add_argument("--link-efficiency", type=float, default=0.8)
    ap.add_argument("--tokens", type=float, default=100e9)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--nodes", default="1,8,32,64")
    ap.add_argument("--cores-per-node", type=int, default=2)
    ap.add_argument("--vocab", default="1e6", help="vocabulary sizes, comma-separated")
    ap.add_argument("--dim", type=int, default=300)
    ap.add_argument("--sync-every", default="1e6,1e8",
                    help="words a replica trains between averagings, comma-separated")
    ap.add_argument("--pairs-per-token", type=float, default=20.0,
                    help="upper bound on a shard's distinct non-zeros per token (2 x window)")
    args = ap.parse_args()
    link = args.link_gbit * 1e9 / 8 * args.link_efficiency  # bytes/s
    nodes = [int(n) for n in args.nodes.split(",")]
    cores = args.cores_per_node
    words = args.tokens * args.epochs
    print(f"corpus {args.tokens:.3g} tokens, {args.epochs} epoch(s); nodes of {cores} cores; "
          f"link {args.link_gbit:g} Gbit/s x {args.link_efficiency:g} usable = "
          f"{link / 1e6:,.0f} MB/s")
    print(f"rates per core: vocabulary {args.count_rate / 1e6:.2f} M tokens/s, co-occurrences "
          f"{args.cooccur_rate / 1e6:.2f} M tokens/s, skip-gram {args.train_rate / 1e6:.2f} M "
          "words/s\n")

    rows = [["nodes", "vocabulary", "co-occurrences (map + shuffle)"]]
    for n in nodes:
        vocab = args.tokens / (n * cores * args.count_rate)
        cmap = args.tokens / (n * cores * args.cooccur_rate)
        shuffle = args.pairs_per_token * args.tokens * 12 / (n * link) if n > 1 else 0.0
        rows.append([str(n), fmt_time(vocab),
                     f"{fmt_time(cmap + shuffle)} ({fmt_time(cmap)} + {fmt_time(shuffle)})"])
    _print(rows)

    for v in (float(x) for x in args.vocab.split(",")):
        S = 2 * v * args.dim * 4
        print(f"\nskip-gram, V = {v:,.0f} words x dim {args.dim}: S = W + C = {S / 1e9:.2f} GB "
              "a replica, each way")
        rows = [["nodes", "sync every", "rounds", "compute a round", "sync a round (star, "
                 "as built)", "total (star)", "speed-up (star)", "sync a round (ring, not "
                 "built)", "total (ring)", "speed-up (ring)"]]
        one = words / (cores * args.train_rate)
        for every in (float(x) for x in args.sync_every.split(",")):
            for n in nodes:
                rate = cores * args.train_rate
                rounds = max(words / (n * every), 1.0)
                compute = words / n / rounds / rate
                if n == 1:
                    star = ring = 0.0
                else:
                    star = S * (1 + math.ceil(math.log2(n))) / link + n * S / link
                    ring = 2 * S * (n - 1) / n / link
                t_star = rounds * (compute + star)
                t_ring = rounds * (compute + ring)
                rows.append([str(n), f"{every:.0e}", f"{rounds:,.0f}", fmt_time(compute),
                             fmt_time(star), fmt_time(t_star), f"{one / t_star:.1f}x",
                             fmt_time(ring), fmt_time(t_ring), f"{one / t_ring:.1f}x"])
        _print(rows)


def _print(rows):
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for k, r in enumerate(rows):
        print("| " + " | ".join(c.rjust(w) for c, w in zip(r, widths)) + " |")
        if k == 0:
            print("|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|")


if __name__ == "__main__":
    main()
