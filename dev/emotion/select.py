"""Scores the candidate configurations that Vigil can ship, fitting every free parameter on the 'fit'
half and reporting the 'holdout' half; prints the parameters to paste into src/emotion/head.rs.

Candidates: mini-Xception (mx) alone or with face-api (fa); views per model: centre + flip ('cf') or
centre + four 2-px shifts, each with its flip ('cf4s'); combination: weighted arithmetic mean of the two
models' view-averaged probabilities, then an optional per-class log-bias.

usage: python select.py variants.npz
"""
import sys

import numpy as np

d = dict(np.load(sys.argv[1]))
y = d["labels"]
fit = d["split"] == "fit"
hold = ~fit
VIEWS = {
    "c": ["linear"],
    "cf": ["linear", "linear_flip"],
    "cf4s": [f"{v}{f}" for v in ["linear", "shift-2,0", "shift2,0", "shift0,-2", "shift0,2"] for f in ["", "_flip"]],
}


def acc(p, m):
    return (p[m].argmax(1) == y[m]).mean()


def avg(model, views):
    return np.mean([d[f"{model}_{v}"] for v in VIEWS[views]], 0)


def bias_fit(logp, m, iters=4):
    b = np.zeros(7)
    grid = np.round(np.linspace(-1.0, 1.0, 21), 2)
    for _ in range(iters):
        for c in range(7):
            scores = []
            for g in grid:
                bb = b.copy()
                bb[c] = g
                scores.append((acc(logp + bb, m), -abs(g), g))
            b[c] = max(scores)[2]
    return b


rows = []
for mxv in ["c", "cf", "cf4s"]:
    pm = avg("mx", mxv)
    rows.append((f"mx {mxv}", None, None, pm))
    for fav in ["c", "cf", "cf4s"]:
        pf = avg("fa", fav)
        ws = np.round(np.linspace(0.3, 1.0, 15), 2)
        w = max(ws, key=lambda w: (acc(w * pm + (1 - w) * pf, fit), w))
        rows.append((f"mx {mxv} + fa {fav}", w, None, w * pm + (1 - w) * pf))
out = []
for name, w, _, p in rows:
    lp = np.log(p + 1e-6)
    b = bias_fit(lp, fit)
    out.append((name, w, acc(p, fit), acc(p, hold), acc(p, np.ones_like(fit)), b, acc(lp + b, fit), acc(lp + b, hold)))
    wtxt = "" if w is None else f"w_mx={w:.2f}"
    print(f"{name:22s} {wtxt:10s} fit {out[-1][2]:.4f} holdout {out[-1][3]:.4f} all {out[-1][4]:.4f} | +bias fit {out[-1][6]:.4f} holdout {out[-1][7]:.4f} b={np.round(b, 2).tolist()}")
