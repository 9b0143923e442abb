#!/usr/bin/env python3
"""Train a FER2013 facial-expression classifier for Vigil.

Trains on FER2013 *Training* only; PublicTest is used only for model selection
(best checkpoint by plain+mirror-averaged accuracy). Class order is the
alphabetical folder order: angry, disgust, fear, happy, neutral, sad, surprise.

Input to the network: grey 48x48, pixel/255 (0..1), shape [N,1,48,48].

Example:
  OMP_NUM_THREADS=1 nice -n 19 python train.py --arch vgg --epochs 30 \
      --out /work/train-emotion-runs/vgg
  # continue an interrupted run exactly where it stopped:
  OMP_NUM_THREADS=1 nice -n 19 python train.py --arch vgg --epochs 30 \
      --out /work/train-emotion-runs/vgg --resume
"""
import argparse
import csv
import math
import os
import random
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from common import CLASSES, TRAIN_DIR, TEST_DIR, load_split, build, count_macs


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("--arch", default="vgg")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--bs", type=int, default=64)
    p.add_argument("--opt", default="sgd", choices=["sgd", "adamw"])
    p.add_argument("--lr", type=float, default=0.05, help="peak LR (OneCycle)")
    p.add_argument("--wd", type=float, default=5e-4)
    p.add_argument("--smooth", type=float, default=0.1, help="label smoothing")
    p.add_argument("--class-weight", default="sqrt", choices=["none", "sqrt", "inv"],
                   help="loss class weights: none, 1/sqrt(freq), 1/freq (normalised to mean 1)")
    p.add_argument("--erase", type=float, default=0.5, help="prob. of random erasing (cutout)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", required=True)
    p.add_argument("--resume", action="store_true",
                   help="continue <out>/last.pt exactly (same --epochs; model, optimizer, scheduler, RNG)")
    p.add_argument("--init", default="",
                   help="warm-start: load model weights only from a checkpoint, fresh optimizer/schedule")
    p.add_argument("--bench", type=int, default=0, help="time N train batches and exit")
    return p.parse_args()


def seed_all(s):
    random.seed(s)
    np.random.seed(s)
    torch.manual_seed(s)


def augment(x, g=None):
    """Batched augmentation on uint8->float tensor x [B,1,48,48] in 0..1.
    Models a face-pipeline crop: shift +-4 px, rotation +-12 deg, scale 0.9-1.1,
    horizontal flip, brightness +-0.15, contrast 0.7-1.3, random erasing."""
    B = x.shape[0]
    ang = (torch.rand(B) * 2 - 1) * math.radians(12)
    sc = 0.9 + torch.rand(B) * 0.2
    flip = torch.where(torch.rand(B) < 0.5, -1.0, 1.0)
    tx = (torch.rand(B) * 2 - 1) * (4 / 24)
    ty = (torch.rand(B) * 2 - 1) * (4 / 24)
    cos, sin = torch.cos(ang) / sc, torch.sin(ang) / sc
    theta = torch.stack([
        torch.stack([cos * flip, -sin, tx], 1),
        torch.stack([sin * flip, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, x.shape, align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    m = x.mean((1, 2, 3), keepdim=True)
    c = 0.7 + torch.rand(B, 1, 1, 1) * 0.6
    b = (torch.rand(B, 1, 1, 1) * 2 - 1) * 0.15
    x = ((x - m) * c + m + b).clamp(0, 1)
    return x


def random_erase(x, p):
    if p <= 0:
        return x
    B = x.shape[0]
    do = torch.rand(B) < p
    sz = torch.randint(8, 20, (B,))
    cx = torch.randint(0, 48, (B,))
    cy = torch.randint(0, 48, (B,))
    val = torch.rand(B)
    ar = torch.arange(48)
    mx = ((ar[None] - cx[:, None]).abs() <= sz[:, None] // 2)
    my = ((ar[None] - cy[:, None]).abs() <= sz[:, None] // 2)
    mask = (my[:, :, None] & mx[:, None, :] & do[:, None, None])[:, None]
    return torch.where(mask, val[:, None, None, None].expand_as(x), x)


@torch.no_grad()
def evaluate(model, x, y, bs=512):
    model.eval()
    P0, P1 = [], []
    for i in range(0, len(x), bs):
        xb = torch.from_numpy(x[i:i + bs]).float().div_(255).unsqueeze(1)
        P0.append(F.softmax(model(xb), 1))
        P1.append(F.softmax(model(torch.flip(xb, [3])), 1))
    p0, p1 = torch.cat(P0), torch.cat(P1)
    yt = torch.from_numpy(y)
    acc_plain = (p0.argmax(1) == yt).float().mean().item()
    pf = (p0 + p1) / 2
    pred = pf.argmax(1)
    acc_flip = (pred == yt).float().mean().item()
    rec = [((pred == c) & (yt == c)).sum().item() / max(1, (yt == c).sum().item()) for c in range(7)]
    model.train()
    return acc_plain, acc_flip, rec


def main():
    a = parse()
    torch.set_num_threads(a.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    os.makedirs(a.out, exist_ok=True)
    seed_all(a.seed)

    t0 = time.time()
    xtr, ytr = load_split(TRAIN_DIR, "train")
    xte, yte = load_split(TEST_DIR, "publictest")
    print(f"data: train {xtr.shape} test {xte.shape} ({time.time()-t0:.1f}s)", flush=True)

    model = build(a.arch)
    if a.init:
        model.load_state_dict(torch.load(a.init, map_location="cpu", weights_only=False)["model"])
        print(f"initialised weights from {a.init}", flush=True)
    nparam = sum(p.numel() for p in model.parameters())
    macs = count_macs(model)
    print(f"arch {a.arch}: params {nparam/1e6:.3f} M, MACs {macs/1e6:.1f} M", flush=True)

    cnt = np.bincount(ytr, minlength=7).astype(np.float64)
    if a.class_weight == "none":
        w = np.ones(7)
    elif a.class_weight == "sqrt":
        w = 1 / np.sqrt(cnt)
    else:
        w = 1 / cnt
    w = w / (w * cnt).sum() * cnt.sum()  # sample-weighted mean 1
    crit = nn.CrossEntropyLoss(weight=torch.tensor(w, dtype=torch.float32), label_smoothing=a.smooth)
    print("class weights:", dict(zip(CLASSES, np.round(w, 3))), flush=True)

    decay, no_decay = [], []
    for n_, p in model.named_parameters():
        (no_decay if p.ndim <= 1 else decay).append(p)
    groups = [{"params": decay, "weight_decay": a.wd}, {"params": no_decay, "weight_decay": 0.0}]
    if a.opt == "sgd":
        opt = torch.optim.SGD(groups, lr=a.lr, momentum=0.9, nesterov=True)
    else:
        opt = torch.optim.AdamW(groups, lr=a.lr)
    steps_per_epoch = len(xtr) // a.bs  # drop last partial batch
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=a.lr, epochs=a.epochs, steps_per_epoch=steps_per_epoch,
        pct_start=0.15, div_factor=20, final_div_factor=200)

    start_epoch, best = 0, -1.0
    last_p = os.path.join(a.out, "last.pt")
    best_p = os.path.join(a.out, "best.pt")
    log_p = os.path.join(a.out, "log.csv")
    if a.resume and os.path.exists(last_p):
        ck = torch.load(last_p, weights_only=False)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        sched.load_state_dict(ck["sched"])
        start_epoch, best = ck["epoch"], ck["best"]
        torch.set_rng_state(ck["rng_torch"])
        np.random.set_state(ck["rng_np"])
        random.setstate(ck["rng_py"])
        print(f"resumed from epoch {start_epoch} (best {best:.4f})", flush=True)
        # drop log rows written after the checkpoint (if the run died mid-epoch)
        if os.path.exists(log_p):
            with open(log_p) as f:
                rows = list(csv.reader(f))
            rows = [rows[0]] + [r for r in rows[1:] if int(r[0]) <= start_epoch]
            with open(log_p, "w", newline="") as f:
                csv.writer(f).writerows(rows)
    elif not a.bench:
        with open(log_p, "w", newline="") as f:
            csv.writer(f).writerow(["epoch", "lr", "train_loss", "train_acc", "test_acc_plain",
                                    "test_acc_flip", "best"] + [f"rec_{c}" for c in CLASSES]
                                   + ["epoch_s"])

    xtr_t = torch.from_numpy(xtr)
    ytr_t = torch.from_numpy(ytr)
    model.train()
    for ep in range(start_epoch, a.epochs):
        te = time.time()
        perm = torch.randperm(len(xtr))
        tl, tc, tn = 0.0, 0, 0
        for it in range(steps_per_epoch):
            idx = perm[it * a.bs:(it + 1) * a.bs]
            xb = xtr_t[idx].float().div_(255).unsqueeze(1)
            yb = ytr_t[idx]
            xb = random_erase(augment(xb), a.erase)
            out = model(xb)
            loss = crit(out, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            tl += loss.item() * len(yb)
            tc += (out.argmax(1) == yb).sum().item()
            tn += len(yb)
            if a.bench and it + 1 == a.bench:
                dt = time.time() - te
                print(f"bench: {dt/a.bench*1000:.1f} ms/batch(bs={a.bs}) -> "
                      f"{dt/a.bench*steps_per_epoch:.0f} s/epoch (train only)", flush=True)
                t1 = time.time()
                evaluate(model, xte, yte)
                print(f"bench: eval (plain+flip) {time.time()-t1:.1f} s", flush=True)
                return
        acc_p, acc_f, rec = evaluate(model, xte, yte)
        is_best = acc_f > best
        best = max(best, acc_f)
        dt = time.time() - te
        lr = opt.param_groups[0]["lr"]
        print(f"ep {ep+1}/{a.epochs} lr {lr:.4f} loss {tl/tn:.4f} tacc {tc/tn:.4f} "
              f"test plain {acc_p:.4f} flip {acc_f:.4f} best {best:.4f} "
              f"rec dis {rec[1]:.2f} fear {rec[2]:.2f} ({dt:.0f}s)", flush=True)
        with open(log_p, "a", newline="") as f:
            csv.writer(f).writerow([ep + 1, f"{lr:.6f}", f"{tl/tn:.4f}", f"{tc/tn:.4f}",
                                    f"{acc_p:.4f}", f"{acc_f:.4f}", f"{best:.4f}"]
                                   + [f"{r:.4f}" for r in rec] + [f"{dt:.1f}"])
        ck = {"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
              "epoch": ep + 1, "best": best, "arch": a.arch, "args": vars(a),
              "rng_torch": torch.get_rng_state(), "rng_np": np.random.get_state(),
              "rng_py": random.getstate(), "test_acc_flip": acc_f, "test_acc_plain": acc_p}
        torch.save(ck, last_p + ".tmp")
        os.replace(last_p + ".tmp", last_p)
        if is_best:
            torch.save(ck, best_p + ".tmp")
            os.replace(best_p + ".tmp", best_p)
    print(f"done. best PublicTest (plain+mirror) acc {best:.4f}", flush=True)


if __name__ == "__main__":
    main()
