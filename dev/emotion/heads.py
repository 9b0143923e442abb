"""Linear heads on the two models' penultimate features, fitted on the 'fit' half only,
C chosen by 5-fold cross-validation inside the fit half, scored once on the 'holdout' half.

usage: python heads.py features.npz [KINDS [VIEWSETS [CS]]]  e.g. mxl+fa,mxs+fa cf,cflrud 0.01,0.03
"""
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

d = dict(np.load(sys.argv[1]))
y = d["labels"]
fit = d["split"] == "fit"
hold = ~fit
VIEWS = ["c", "f", "l", "r", "u", "d"]


def feat(kind, v):
    parts = []
    if "mxg" in kind:
        parts.append(d[f"mx_add4_{v}"].mean((2, 3)))
    if "mxs" in kind:  # 2x2 spatial pooling of add_4: 512-d
        a = d[f"mx_add4_{v}"]
        parts.append(a.reshape(len(a), 128, 2, 2, 2, 2).mean((3, 5)).reshape(len(a), -1))
    if "mxl" in kind:
        parts.append(d[f"mx_logit_{v}"])
    if "fa" in kind:
        parts.append(d[f"fa_pool_{v}"])
    if "fal" in kind:
        parts.append(d[f"fa_logit_{v}"])
    return np.concatenate(parts, 1)


def fit_head(X_views, idx, C):
    """X_views: list of [N, F] per view; trains on all views of idx as separate samples."""
    Xtr = np.concatenate([X[idx] for X in X_views])
    ytr = np.concatenate([y[idx]] * len(X_views))
    sc = StandardScaler().fit(Xtr)
    lr = LogisticRegression(C=C, max_iter=3000).fit(sc.transform(Xtr), ytr)
    return sc, lr


def predict(model, X_views, idx):
    sc, lr = model
    return np.mean([lr.predict_proba(sc.transform(X[idx])) for X in X_views], 0)


fit_idx = np.where(fit)[0]
hold_idx = np.where(hold)[0]
KINDS = sys.argv[2].split(",") if len(sys.argv) > 2 else ["mxl+fa", "mxl+fa+fal", "mxs+mxl+fa"]
VIEWSETS = [list(v) for v in sys.argv[3].split(",")] if len(sys.argv) > 3 else [["c", "f"], VIEWS]
CS = [float(c) for c in sys.argv[4].split(",")] if len(sys.argv) > 4 else [0.003, 0.01, 0.03]
for kind in KINDS:
    for views in VIEWSETS:
        Xv = [feat(kind, v) for v in views]
        best = None
        for C in CS:
            skf = StratifiedKFold(5, shuffle=True, random_state=0)
            accs = []
            for tr, va in skf.split(fit_idx, y[fit_idx]):
                m = fit_head(Xv, fit_idx[tr], C)
                accs.append((predict(m, Xv, fit_idx[va]).argmax(1) == y[fit_idx[va]]).mean())
            cv = np.mean(accs)
            if best is None or cv > best[0]:
                best = (cv, C)
        m = fit_head(Xv, fit_idx, best[1])
        ha = (predict(m, Xv, hold_idx).argmax(1) == y[hold_idx]).mean()
        print(f"{kind:16s} views {''.join(views):6s} F={Xv[0].shape[1]:4d} C={best[1]:<6} cv(fit) {best[0]:.4f} holdout {ha:.4f}", flush=True)
