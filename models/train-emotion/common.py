"""Shared bits for the Vigil FER2013 expression classifier recipe.

Class order (index -> label) is alphabetical folder order:
    0 angry, 1 disgust, 2 fear, 3 happy, 4 neutral, 5 sad, 6 surprise

Model input: float32 [N,1,48,48], grey pixel / 255 (range 0..1), no mean/std
subtraction (the first Conv+BN learns the normalisation, so the exported graph
needs no extra ops). Zero padding in the convs therefore means "black".
"""
import os
import glob
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

CLASSES = ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]
TRAIN_DIR = "/work/shared/data/emotion-fer2013-train"
TEST_DIR = "/work/shared/data/emotion-fer2013-publictest"
CACHE_DIR = "/work/train-emotion-runs/cache"


def load_split(root, cache_name=None):
    """Load a <root>/<class>/*.jpg tree into uint8 [N,48,48] + int64 labels.
    Files are sorted so the order is deterministic. Cached as .npz."""
    if cache_name:
        cp = os.path.join(CACHE_DIR, cache_name + ".npz")
        if os.path.exists(cp):
            d = np.load(cp)
            return d["x"], d["y"]
    from PIL import Image
    xs, ys = [], []
    for ci, c in enumerate(CLASSES):
        files = sorted(glob.glob(os.path.join(root, c, "*.jpg")))
        for f in files:
            im = Image.open(f).convert("L")
            if im.size != (48, 48):
                im = im.resize((48, 48), Image.BILINEAR)
            xs.append(np.asarray(im, dtype=np.uint8))
            ys.append(ci)
    x = np.stack(xs)
    y = np.asarray(ys, dtype=np.int64)
    if cache_name:
        os.makedirs(CACHE_DIR, exist_ok=True)
        np.savez(cp, x=x, y=y)
    return x, y


# ----------------------------------------------------------------------------
# Architectures (all plain Conv/BN/ReLU/MaxPool/GAP/Linear)
# ----------------------------------------------------------------------------

def cbr(cin, cout, stride=1):
    return [nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class VGGSmall(nn.Module):
    """Compact VGG-style net. 48 -> 24 -> 12 -> 6 -> 3, GAP, dropout, FC."""

    def __init__(self, widths=(32, 64, 128, 256), num_classes=7, drop=0.3):
        super().__init__()
        a, b, c, d = widths
        L = []
        L += cbr(1, a)                       # 48
        L += [nn.MaxPool2d(2)]               # 24
        L += cbr(a, b) + cbr(b, b)           # 24
        L += [nn.MaxPool2d(2)]               # 12
        L += cbr(b, c) + cbr(c, c)           # 12
        L += [nn.MaxPool2d(2)]               # 6
        L += cbr(c, d) + cbr(d, d)           # 6
        L += [nn.MaxPool2d(2)]               # 3
        self.features = nn.Sequential(*L)
        self.drop = nn.Dropout(drop)
        self.fc = nn.Linear(d, num_classes)

    def forward(self, x):
        x = self.features(x)
        x = x.mean((2, 3))
        return self.fc(self.drop(x))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.sc = None
        if stride != 1 or cin != cout:
            self.sc = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        o = F.relu(self.b1(self.c1(x)), inplace=True)
        o = self.b2(self.c2(o))
        s = x if self.sc is None else self.sc(x)
        return F.relu(o + s, inplace=True)


class ResNetSmall(nn.Module):
    """ResNet-18-style (2 BasicBlocks per stage, 4 stages) with narrow widths.
    stem conv @48 -> maxpool -> stages @24,12,6,3 -> GAP -> FC."""

    def __init__(self, widths=(16, 32, 64, 128), num_classes=7, drop=0.2):
        super().__init__()
        self.stem = nn.Sequential(*cbr(1, widths[0]), nn.MaxPool2d(2))
        layers, cin = [], widths[0]
        for i, w in enumerate(widths):
            s = 1 if i == 0 else 2
            layers += [BasicBlock(cin, w, s), BasicBlock(w, w, 1)]
            cin = w
        self.layers = nn.Sequential(*layers)
        self.drop = nn.Dropout(drop)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = self.layers(self.stem(x))
        x = x.mean((2, 3))
        return self.fc(self.drop(x))


ARCHS = {
    "vgg": lambda: VGGSmall((32, 64, 128, 256)),
    "vggs": lambda: VGGSmall((24, 48, 96, 192)),
    "resnet": lambda: ResNetSmall((16, 32, 64, 128)),
    "resnetw": lambda: ResNetSmall((24, 48, 96, 160)),
}


def build(arch):
    return ARCHS[arch]()


def count_macs(model, shape=(1, 1, 48, 48)):
    """Hook-based MAC counter (Conv2d + Linear; BN/ReLU/pool ignored as they
    are folded or negligible)."""
    total = [0]

    def conv_hook(m, i, o):
        k = m.kernel_size[0] * m.kernel_size[1] * (m.in_channels // m.groups)
        total[0] += o.numel() // o.shape[0] * k

    def lin_hook(m, i, o):
        total[0] += m.in_features * m.out_features

    hs = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hs.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hs.append(m.register_forward_hook(lin_hook))
    was = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(shape))
    model.train(was)
    for h in hs:
        h.remove()
    return total[0]
