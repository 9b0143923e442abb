"""Where do MTCNN's five landmarks sit inside a FER2013 crop? Runs O-Net on every PublicTest crop taken
whole as the candidate box (a FER crop is a tight face box) and prints the median landmark positions,
as fractions of the crop side: the template that src/emotion/crop.rs warps detected faces onto, so a
live face is framed as the classifier saw faces in training.

O-Net: input_3 [N, 48, 48, 3], image transposed (width first), RGB, (x - 127.5) * 0.0078125;
dense_6 [N, 10] = x1..x5 then y1..y5 relative to the box; softmax_2 [N, 2] face probability.

usage: python fer_template.py DATA_DIR MODELS_DIR
"""
import sys

import numpy as np

from common import load_dataset, session

data, models = sys.argv[1:3]
paths, y, imgs = load_dataset(data)
onet = session(f"{models}/onet.onnx")
x = np.repeat(imgs[:, :, :, None].astype(np.float32), 3, 3)  # N,H,W,3
x = (x - 127.5) * 0.0078125
x = x.transpose(0, 2, 1, 3)  # N,W,H,3
outs = [onet.run(None, {"input_3": x[i:i + 256]}) for i in range(0, len(x), 256)]
box = np.concatenate([o[0] for o in outs])
lm = np.concatenate([o[1] for o in outs])
prob = np.concatenate([o[2] for o in outs])[:, 1]
ok = prob > 0.9
print(f"O-Net face prob > 0.9 on {ok.mean():.3f} of {len(x)} crops")
names = ["left_eye", "right_eye", "nose", "mouth_left", "mouth_right"]
med = np.median(lm[ok], 0)
iqr = np.percentile(lm[ok], 75, 0) - np.percentile(lm[ok], 25, 0)
for i, n in enumerate(names):
    print(f"{n:12s} x {med[i]:.4f} y {med[i + 5]:.4f}   (IQR x {iqr[i]:.3f} y {iqr[i + 5]:.3f})")
print("box regression median (dx1, dy1, dx2, dy2):", np.round(np.median(box[ok], 0), 4))
