"""Reads variants.npz and scores test-time augmentation sets, ensembles and fitted heads.

Everything fitted or selected (view sets, ensemble weights, heads) is chosen on the 'fit' half and
reported on the 'holdout' half (split_of in common.py). Unfitted combinations are also shown on all.

usage: python analyse.py variants.npz
"""
import itertools
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression

d = dict(np.load(sys.argv[1]))
y = d["labels"]
fit = d["split"] == "fit"
hold = ~fit
print(f"images {len(y)}: fit {fit.sum()}, holdout {hold.sum()}")
print("class counts fit", np.bincount(y[fit], minlength=7), "holdout", np.bincount(y[hold], minlength=7))


def acc(p, m=None):
    m = np.ones(len(y), bool) if m is None else m
    return (p[m].argmax(1) == y[m]).mean()


def mean_of(names, geo=False):
    ps = [d[n] for n in names]
    if geo:
        return np.exp(np.mean([np.log(p + 1e-7) for p in ps], 0))
    return np.mean(ps, 0)


def row(name, p):
    print(f"{name:60s} all {acc(p):.4f}  fit {acc(p, fit):.4f}  holdout {acc(p, hold):.4f}")


row("mx linear (stock)", d["mx_linear"])
row("fa linear", d["fa_linear"])
row("mx linear+flip", mean_of(["mx_linear", "mx_linear_flip"]))
row("fa linear+flip", mean_of(["fa_linear", "fa_linear_flip"]))

views = sorted({k[3:].replace("_flip", "") for k in d if k.startswith("mx_")})
# Greedy forward selection of views (with their flips) on the fit half, per model.
for model in ["mx", "fa"]:
    chosen = ["linear"]
    best = acc(mean_of([f"{model}_{v}{f}" for v in chosen for f in ["", "_flip"]]), fit)
    while True:
        cand = []
        for v in views:
            if v in chosen:
                continue
            p = mean_of([f"{model}_{w}{f}" for w in chosen + [v] for f in ["", "_flip"]])
            cand.append((acc(p, fit), v))
        if not cand:
            break
        a, v = max(cand)
        if a <= best + 0.001:
            break
        best = a
        chosen.append(v)
    p = mean_of([f"{model}_{w}{f}" for w in chosen for f in ["", "_flip"]])
    row(f"{model} greedy views {chosen}", p)
    d[f"{model}_tta"] = p

# Fixed small view sets (no selection): centre + flip, + 4 one-pixel shifts, + scales.
sets = {
    "c+flip": ["linear"],
    "c,shift+-1 diag": ["linear", "shift-1,-1", "shift1,1", "shift-1,1", "shift1,-1"],
    "c,shift2 4": ["linear", "shift-2,0", "shift2,0", "shift0,-2", "shift0,2"],
    "c,scale.95,1.05": ["linear", "scale0.95", "scale1.05"],
}
for model in ["mx", "fa"]:
    for name, vs in sets.items():
        row(f"{model} {name} (+flips)", mean_of([f"{model}_{v}{f}" for v in vs for f in ["", "_flip"]]))

# Ensemble of the two models: weight chosen on fit.
for a_name, b_name in [("mx_linear", "fa_linear"), ("mx_tta", "fa_tta")]:
    for geo in [False, True]:
        best = None
        for w in np.linspace(0, 1, 21):
            if geo:
                p = np.exp(w * np.log(d[a_name] + 1e-7) + (1 - w) * np.log(d[b_name] + 1e-7))
            else:
                p = w * d[a_name] + (1 - w) * d[b_name]
            a = acc(p, fit)
            if best is None or a > best[0]:
                best = (a, w, p)
        row(f"ensemble {a_name}+{b_name} {'geo' if geo else 'arith'} w_mx={best[1]:.2f}", best[2])

# Heads fitted on the fit half: logistic regression on log-probabilities of both models.
def feats(names):
    return np.concatenate([np.log(d[n] + 1e-7) for n in names], 1)

for names in [["mx_linear"], ["mx_linear", "fa_linear"], ["mx_tta", "fa_tta"]]:
    X = feats(names)
    for C in [0.01, 0.1, 1.0]:
        for cw in [None, "balanced"]:
            lr = LogisticRegression(C=C, max_iter=2000, class_weight=cw).fit(X[fit], y[fit])
            p = lr.predict_proba(X)
            print(f"LR {'+'.join(names):30s} C={C:<5} cw={cw!s:9s} fit {acc(p, fit):.4f} holdout {acc(p, hold):.4f}")

# Per-class bias (log-prior shift) on top of a fixed ensemble: coordinate ascent on fit.
def bias_fit(logp, m, iters=5):
    b = np.zeros(7)
    grid = np.linspace(-1.5, 1.5, 31)
    for _ in range(iters):
        for c in range(7):
            best = (acc_l(logp + b, m), b[c])
            for g in grid:
                bb = b.copy(); bb[c] = g
                a = acc_l(logp + bb, m)
                if a > best[0] + 1e-9:
                    best = (a, g)
            b[c] = best[1]
    return b

def acc_l(l, m):
    return (l[m].argmax(1) == y[m]).mean()

for name in ["mx_linear", "mx_tta"]:
    l = np.log(d[name] + 1e-7)
    b = bias_fit(l, fit)
    print(f"bias {name:20s} b={np.round(b, 2)} fit {acc_l(l + b, fit):.4f} holdout {acc_l(l + b, hold):.4f}")
