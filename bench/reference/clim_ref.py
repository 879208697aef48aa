#!/usr/bin/python3
"""PyTorch reference of the CLIM Playground engine (issue 3, bench/reference).

Written independently of the TypeScript engine from the same description
(docs/METHOD.md §1-§5 and src/core's doc comments), for three jobs:

  bench  time one CLIM training step of the same encoder, batch and thread
         count as the tfjs benchmark (median of measured steps after warm-up);
  check  load weights, views, queues and λ dumped by bench/reference/dump-step.ts
         and recompute the λ-mixed multi-resolution InfoNCE loss and its
         gradients: an independent check of src/core's forward pass, loss and
         both conv gradients (which src/core computes as forward convs on WASM);
  train  run many steps on a data set exported by bench/reference/export-data.ts
         and print the kNN monitor (METHOD §6) along the way: how fast this
         model learns on that data, measured ~10× faster than on tfjs WASM.

Layouts: tfjs stores conv filters H×W×Cin×Cout and images B×H×W×C; here
filters are Cout×Cin×H×W and images B×C×H×W. 'same' padding follows
TensorFlow (the extra row/column of an even total pad goes after).

Use Debian's interpreter, which has python3-torch:
  /usr/bin/python3 bench/reference/clim_ref.py bench --config cfg.json --threads 1
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


# ---------------------------------------------------------------- encoder

def same_pad(n, k, s):
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def conv_same(x, w, stride=1):
    k = w.shape[-1]
    ph = same_pad(x.shape[2], k, stride)
    pw = same_pad(x.shape[3], k, stride)
    if any(ph) or any(pw):
        x = F.pad(x, (pw[0], pw[1], ph[0], ph[1]))
    return F.conv2d(x, w, stride=stride)


def param_specs(cfg):
    """(name, kind, tfjs shape) in the order src/core/models/encoder.ts creates them."""
    specs = []
    w = cfg['width']

    def norm(name, c):
        if cfg['norm'] == 'none':
            specs.append((f'{name}.beta', 'bias', [c]))
        else:
            specs.append((f'{name}.gamma', 'norm', [c]))
            specs.append((f'{name}.beta', 'norm', [c]))

    specs.append(('stem.conv', 'weight', [3, 3, 3, w]))
    norm('stem.norm', w)
    ci = w
    for s in range(cfg['stages']):
        co = w * 2 ** s
        for b in range(cfg['blocksPerStage']):
            p = f's{s}.b{b}'
            specs.append((f'{p}.conv1', 'weight', [3, 3, ci, co]))
            norm(f'{p}.norm1', co)
            specs.append((f'{p}.conv2', 'weight', [3, 3, co, co]))
            norm(f'{p}.norm2', co)
            if ci != co or (s > 0 and b == 0):
                specs.append((f'{p}.short', 'weight', [1, 1, ci, co]))
                norm(f'{p}.shortnorm', co)
            ci = co
    f = w * 2 ** (cfg['stages'] - 1)
    specs += [('head.fc1.w', 'weight', [f, cfg['projHidden']]), ('head.fc1.b', 'bias', [cfg['projHidden']]),
              ('head.fc2.w', 'weight', [cfg['projHidden'], cfg['projDim']]), ('head.fc2.b', 'bias', [cfg['projDim']])]
    return specs


def tfjs_to_torch(name, arr):
    """A tfjs value (numpy, tfjs layout) → torch layout."""
    t = torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32))
    if t.dim() == 4:  # H×W×Cin×Cout → Cout×Cin×H×W
        t = t.permute(3, 2, 0, 1).contiguous()
    return t


def torch_to_tfjs(t):
    t = t.detach()
    if t.dim() == 4:
        t = t.permute(2, 3, 1, 0)
    return t.contiguous().numpy()


class Encoder:
    """Backbone (small ResNet, GroupNorm) + 2-layer MLP head, L2-normalised output."""

    def __init__(self, cfg, params):
        self.cfg = cfg
        self.specs = param_specs(cfg)
        self.p = params  # name → torch tensor (torch layout)

    @staticmethod
    def create(cfg, gen):
        params = {}
        for name, kind, shape in param_specs(cfg):
            if kind == 'weight':
                fan_in = int(np.prod(shape[:-1]))
                v = torch.randn(shape, generator=gen) * math.sqrt(2 / fan_in)
                params[name] = tfjs_to_torch(name, v.numpy())
            elif name.endswith('gamma'):
                params[name] = torch.ones(shape)
            else:
                params[name] = torch.zeros(shape)
        return Encoder(cfg, params)

    def copy(self):
        return Encoder(self.cfg, {k: v.detach().clone() for k, v in self.p.items()})

    def parameters(self):
        return [self.p[n] for n, _, _ in self.specs]

    def norm_act(self, x, name, relu):
        if self.cfg['norm'] == 'none':
            y = x + self.p[f'{name}.beta'].view(1, -1, 1, 1)
        else:
            c = x.shape[1]
            g = min(self.cfg['groups'], c)
            while c % g:
                g -= 1
            y = F.group_norm(x, g, self.p[f'{name}.gamma'], self.p[f'{name}.beta'], eps=1e-5)
        return F.relu(y) if relu else y

    def features(self, x):
        """x: B×3×H×W in [0, 1] → B×F."""
        c = self.cfg
        h = (x - 0.5) * 4
        h = self.norm_act(conv_same(h, self.p['stem.conv'], c['stemStride']), 'stem.norm', True)
        for s in range(c['stages']):
            for b in range(c['blocksPerStage']):
                p = f's{s}.b{b}'
                stride = 2 if s > 0 and b == 0 else 1
                y = self.norm_act(conv_same(h, self.p[f'{p}.conv1'], stride), f'{p}.norm1', True)
                y = self.norm_act(conv_same(y, self.p[f'{p}.conv2']), f'{p}.norm2', False)
                sc = self.norm_act(conv_same(h, self.p[f'{p}.short'], stride), f'{p}.shortnorm', False) if f'{p}.short' in self.p else h
                h = F.relu(y + sc)
        return h.mean(dim=(2, 3))

    def project(self, f):
        h = F.relu(f @ self.p['head.fc1.w'] + self.p['head.fc1.b'])
        z = h @ self.p['head.fc2.w'] + self.p['head.fc2.b']
        return z / (z.norm(dim=1, keepdim=True) + 1e-12)

    def embed(self, x):
        return self.project(self.features(x))


# ---------------------------------------------------------------- loss (§1, §4)

def info_nce(q, k, queue, t):
    """q, k: B×d; queue: K×d → per-sample loss B."""
    pos = (q * k).sum(1, keepdim=True)
    logits = torch.cat([pos, q @ queue.t()], 1) if queue.shape[0] > 0 else pos
    logits = logits / t
    return torch.logsumexp(logits, 1) - logits[:, 0]


def mixed_info_nce(q, ka, kp, queue, lam, t):
    la = info_nce(q, ka, queue, t)
    lp = info_nce(q, kp, queue, t)
    return (lam * la + (1 - lam) * lp).mean(), la.mean(), lp.mean()


# ---------------------------------------------------------------- augmentation (§1), on tensors

YIQ = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
YIQ_INV = np.linalg.inv(YIQ)
LUMA = np.array([0.299, 0.587, 0.114])


def draw_crops(b, cfg, rng):
    boxes = np.zeros((b, 4))
    for i in range(b):
        w = h = 1.0
        for _ in range(10):
            s = rng.uniform(cfg['cropScaleMin'], cfg['cropScaleMax'])
            r = math.exp(rng.uniform(math.log(3 / 4), math.log(4 / 3)))
            w, h = math.sqrt(s * r), math.sqrt(s / r)
            if w <= 1 and h <= 1:
                break
        else:
            w = h = 1.0
        y1, x1 = rng.uniform(0, 1 - h), rng.uniform(0, 1 - w)
        if rng.random() < cfg['flipProb']:
            boxes[i] = [y1, x1 + w, y1 + h, x1]
        else:
            boxes[i] = [y1, x1, y1 + h, x1 + w]
    return boxes


def colour_maps(b, cfg, rng):
    """Per-image affine colour map rgb' = A·rgb + G·mean(rgb): jitter (brightness, contrast, saturation, hue) then grayscale."""
    A = np.tile(np.eye(3), (b, 1, 1))
    G = np.zeros((b, 3, 3))
    for i in range(b):
        a, g = np.eye(3), np.zeros((3, 3))
        if rng.random() < cfg['jitterProb']:
            fb = rng.uniform(max(0, 1 - cfg['brightness']), 1 + cfg['brightness'])
            fc = rng.uniform(max(0, 1 - cfg['contrast']), 1 + cfg['contrast'])
            fs = rng.uniform(max(0, 1 - cfg['saturation']), 1 + cfg['saturation'])
            th = -2 * math.pi * rng.uniform(-cfg['hue'], cfg['hue'])
            a = fb * a
            grey = np.outer(np.ones(3), LUMA)
            g = (1 - fc) * grey @ a  # contrast blends towards the mean grey of the brightened image
            a = fc * a
            sat = fs * np.eye(3) + (1 - fs) * grey
            a, g = sat @ a, sat @ g
            rot = np.array([[1, 0, 0], [0, math.cos(th), -math.sin(th)], [0, math.sin(th), math.cos(th)]])
            hue = YIQ_INV @ rot @ YIQ
            a, g = hue @ a, hue @ g
        if rng.random() < cfg['grayscaleProb']:
            grey = np.outer(np.ones(3), LUMA)
            a, g = grey @ a, grey @ g
        A[i], G[i] = a, g
    return torch.tensor(A, dtype=torch.float32), torch.tensor(G, dtype=torch.float32)


def crop_resize(x, boxes, out):
    """x: B×3×S×S, boxes B×4 (y1, x1, y2, x2) in edge fractions → B×3×out×out (bilinear, half-pixel, border clamp)."""
    bt = torch.tensor(boxes, dtype=torch.float32)
    theta = torch.zeros(x.shape[0], 2, 3)
    theta[:, 0, 0] = bt[:, 3] - bt[:, 1]
    theta[:, 0, 2] = bt[:, 1] + bt[:, 3] - 1
    theta[:, 1, 1] = bt[:, 2] - bt[:, 0]
    theta[:, 1, 2] = bt[:, 0] + bt[:, 2] - 1
    grid = F.affine_grid(theta, [x.shape[0], 3, out, out], align_corners=False)
    return F.grid_sample(x, grid, mode='bilinear', padding_mode='border', align_corners=False)


def augment(x, out, cfg, rng):
    b = x.shape[0]
    crops = crop_resize(x, draw_crops(b, cfg, rng), out)
    A, G = colour_maps(b, cfg, rng)
    flat = crops.flatten(2)  # B×3×N
    y = A @ flat + G @ flat.mean(2, keepdim=True)
    return y.clamp(0, 1).view_as(crops)


def centre_view(x, out):
    if x.shape[2] == out:
        return x
    return F.interpolate(x, size=(out, out), mode='bilinear', align_corners=False)


# ---------------------------------------------------------------- CLIM selection (§2, §3) and mixing (§4)

def spherical_kmeans(z, c, iters, gen, init=None):
    n = z.shape[0]
    c = min(c, n)
    if init is None:
        cents = [z[torch.randint(n, (1,), generator=gen)].squeeze(0)]
        for _ in range(1, c):  # k-means++ on cosine distance
            d = (1 - z @ torch.stack(cents).t()).min(1).values.clamp_min(0) + 1e-12
            cents.append(z[torch.multinomial(d, 1, generator=gen)].squeeze(0))
        mu = torch.stack(cents)
    else:
        mu = init
    for _ in range(iters):
        assign = (z @ mu.t()).argmax(1)
        sums = torch.zeros_like(mu).index_add_(0, assign, z)
        counts = torch.bincount(assign, minlength=c)
        empty = counts == 0
        if empty.any():
            sums[empty] = z[torch.randint(n, (int(empty.sum()),), generator=gen)]
        mu = sums / (sums.norm(dim=1, keepdim=True) + 1e-12)
    assign = (z @ mu.t()).argmax(1)
    return mu, assign


def select_center_wise(bank, anchors, k, mu, assign, u):
    """Positive per anchor (B): a random neighbour among the k nearest that shares the anchor's cluster and is at least as close to its centre; else the anchor."""
    za = bank[anchors]
    sims = za @ bank.t()
    sims[torch.arange(len(anchors)), anchors] = -float('inf')
    kk = min(k, bank.shape[0] - 1)
    if kk <= 0 or mu is None:
        return anchors.clone(), torch.zeros(len(anchors))
    _, nb = sims.topk(kk, dim=1)
    ca = assign[anchors]
    centre = mu[ca]  # B×d
    anchor_cs = (za * centre).sum(1)
    nb_cs = (bank[nb] * centre[:, None, :]).sum(2)
    keep = (assign[nb] == ca[:, None]) & (nb_cs >= anchor_cs[:, None])
    count = keep.sum(1)
    pick = (u * count).floor().long().clamp(max=kk - 1)
    # index of the pick-th kept neighbour in each row
    rank = keep.long().cumsum(1) - 1
    hit = keep & (rank == pick[:, None])
    chosen = (hit.long() * torch.arange(kk)).sum(1)
    pos = torch.where(count > 0, nb[torch.arange(len(anchors)), chosen], anchors)
    return pos, count


def cutmix(qa, qp, plan):
    """plan: list of (applied, λ, box fractions (y1, x1, y2, x2)) → mixed B×3×r×r and λ reset to the kept area."""
    r = qa.shape[2]
    mixed = qa.clone()
    lam = torch.ones(qa.shape[0])
    for i, (applied, _, box) in enumerate(plan):
        if not applied:
            continue
        y1, x1, y2, x2 = [int(round(v * r)) for v in box]
        mixed[i, :, y1:y2, x1:x2] = qp[i, :, y1:y2, x1:x2]
        lam[i] = 1 - (y2 - y1) * (x2 - x1) / (r * r)
    return mixed, lam


def draw_cutmix(b, prob, alpha, rng):
    plan = []
    for _ in range(b):
        if rng.random() >= prob:
            plan.append((False, 1.0, None))
            continue
        lam = rng.beta(alpha, alpha)
        side = math.sqrt(1 - lam)
        cy, cx = rng.random(), rng.random()
        box = (max(0, cy - side / 2), max(0, cx - side / 2), min(1, cy + side / 2), min(1, cx + side / 2))
        plan.append((True, lam, box))
    return plan


# ---------------------------------------------------------------- training

def lr_at(step, cfg):
    base, warm, total = cfg['lr'], cfg['warmupSteps'], cfg['totalSteps']
    if warm > 0 and step < warm:
        return base * (step + 1) / warm
    t = min(1, max(0, (step - warm) / max(1, total - warm)))
    return 0.5 * base * (1 + math.cos(math.pi * t))


class Trainer:
    def __init__(self, cfg, train_x, seed):
        self.cfg = cfg
        self.x = train_x  # N×3×S×S float
        self.n = train_x.shape[0]
        self.gen = torch.Generator().manual_seed(seed)
        self.rng = np.random.default_rng(seed)
        self.q = Encoder.create(cfg, self.gen)
        self.k = self.q.copy()
        for p in self.q.parameters():
            p.requires_grad_(True)
        self.kinds = {n: kind for n, kind, _ in self.q.specs}
        self.buf = {n: torch.zeros_like(v) for n, v in self.q.p.items()}
        r0 = cfg['resolutions'][0]
        with torch.no_grad():
            self.bank = torch.cat([self.k.embed(centre_view(self.x[i:i + 256], r0)) for i in range(0, self.n, 256)])
        K = cfg['queueSize']
        self.queues = [self.bank[torch.randint(self.n, (K,), generator=self.gen)].clone() for _ in cfg['resolutions']]
        self.qptr = [0 for _ in cfg['resolutions']]
        self.mu, self.assign = spherical_kmeans(self.bank, cfg['clusters'], cfg['kmeansIters'], self.gen)
        self.step = 0
        self.perm = self.rng.permutation(self.n)
        self.pos = 0

    def next_anchors(self, b):
        if self.pos + b > self.n:
            self.perm = self.rng.permutation(self.n)
            self.pos = 0
        a = self.perm[self.pos:self.pos + b]
        self.pos += b
        return torch.from_numpy(a.astype(np.int64))

    def train_step(self):
        cfg = self.cfg
        B = min(cfg['batchSize'], self.n)
        R = len(cfg['resolutions'])
        lr = lr_at(self.step, cfg)
        warm = self.step < cfg['climWarmupSteps']
        anchors = self.next_anchors(B)
        if warm or cfg['selection'] == 'none':
            positives, kept = anchors.clone(), torch.zeros(B)
        else:
            positives, kept = select_center_wise(self.bank, anchors, cfg['knnK'], self.mu, self.assign, torch.from_numpy(self.rng.random(B)).float())
        use_mix = not warm and cfg['mix'] == 'cutmix'
        plan = draw_cutmix(B, cfg['mixProb'], cfg['mixAlpha'], self.rng) if use_mix else None
        xa, xp = self.x[anchors], self.x[positives]
        with torch.no_grad():
            keys = []
            for r in cfg['resolutions']:
                kz = self.k.embed(torch.cat([augment(xa, r, cfg, self.rng), augment(xp, r, cfg, self.rng)]))
                keys.append((kz[:B], kz[B:]))
            views = []
            for r in cfg['resolutions']:
                qa, qp = augment(xa, r, cfg, self.rng), augment(xp, r, cfg, self.rng)
                views.append(cutmix(qa, qp, plan) if use_mix else (qa, torch.ones(B)))
        total = 0
        for r in range(R):
            qz = self.q.embed(views[r][0])
            for s in range(R):
                total = total + mixed_info_nce(qz, keys[s][0], keys[s][1], self.queues[s], views[r][1], cfg['temperature'])[0]
        loss = total / (R * R)
        params = self.q.parameters()
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for (name, kind, _), p, g in zip(self.q.specs, params, grads):
                if kind == 'weight' and cfg['weightDecay'] > 0:
                    g = g + cfg['weightDecay'] * p
                b = self.buf[name]
                b.mul_(cfg['momentum']).add_(g)
                p.sub_(lr * b)
            m = cfg['keyMomentum']
            for name in self.k.p:
                self.k.p[name].mul_(m).add_((1 - m) * self.q.p[name])
            K = cfg['queueSize']
            for s in range(R):
                if K == 0:
                    continue
                idx = (self.qptr[s] + torch.arange(B)) % K
                self.queues[s][idx] = keys[s][0]
                self.qptr[s] = (self.qptr[s] + B) % K
            self.bank[anchors] = keys[0][0]
        self.step += 1
        if self.step % cfg['kmeansEvery'] == 0:
            self.mu, self.assign = spherical_kmeans(self.bank, cfg['clusters'], cfg['kmeansIters'], self.gen, self.mu)
        return float(loss)

    @torch.no_grad()
    def knn_top1(self, train_x, train_y, test_x, test_y):
        r0 = self.cfg['resolutions'][0]

        def feats(x):
            f = torch.cat([self.q.features(centre_view(x[i:i + 256], r0)) for i in range(0, x.shape[0], 256)])
            return f / (f.norm(dim=1, keepdim=True) + 1e-12)
        ftr, fte = feats(train_x), feats(test_x)
        sims = fte @ ftr.t()
        k = min(self.cfg['evalK'], ftr.shape[0])
        s, idx = sims.topk(k, dim=1)
        w = torch.exp(s / self.cfg['evalTemperature'])
        classes = int(train_y.max()) + 1
        votes = torch.zeros(fte.shape[0], classes).scatter_add_(1, train_y[idx], w)
        return float((votes.argmax(1) == test_y).float().mean())


# ---------------------------------------------------------------- I/O

def load_data(path):
    """Data file from bench/reference/export-data.ts: JSON header line, then uint8 images (N×S×S×3) and int32 labels."""
    with open(path, 'rb') as fh:
        header = json.loads(fh.readline())
        raw = fh.read()
    out = {}
    off = 0
    for split in ('train', 'test'):
        n, s = header[split], header['size']
        imgs = np.frombuffer(raw, dtype=np.uint8, count=n * s * s * 3, offset=off).reshape(n, s, s, 3)
        off += n * s * s * 3
        labels = np.frombuffer(raw, dtype=np.int32, count=n, offset=off)
        off += 4 * n
        out[split] = (torch.from_numpy(imgs.astype(np.float32) / 255).permute(0, 3, 1, 2).contiguous(), torch.from_numpy(labels.astype(np.int64)))
    return header, out


def random_data(n, size, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, size, size, generator=g)


def warm_trainer(args):
    """The Trainer `bench` and `serve` time: config, thread count, data (or random images), warm-up steps done."""
    cfg = load_config(args)
    torch.set_num_threads(args.threads)
    x = load_data(args.data)[1]['train'][0] if args.data else random_data(max(cfg['batchSize'] * 4, 512), args.size, 1)
    t = Trainer(cfg, x, cfg['seed'])
    for _ in range(args.warmup):
        t.train_step()
    return cfg, t


def cmd_bench(args):
    cfg, t = warm_trainer(args)
    ms = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        t.train_step()
        ms.append((time.perf_counter() - t0) * 1000)
    ms.sort()
    res = {'threads': torch.get_num_threads(), 'torch': torch.__version__, 'batchSize': cfg['batchSize'], 'resolutions': cfg['resolutions'],
           'steps': args.steps, 'warmup': args.warmup, 'medianMs': ms[len(ms) // 2], 'minMs': ms[0], 'maxMs': ms[-1],
           'imagesPerSecond': cfg['batchSize'] * 1000 / ms[len(ms) // 2]}
    print(json.dumps(res))


def cmd_serve(args):
    """One training step per 'step' line on stdin, answered by {"ms": …} on stdout: lets bench/run.ts
    alternate single tfjs and PyTorch steps, so both sides of each ratio are measured under the same
    machine speed (it drifts by ±30% within minutes here)."""
    _, t = warm_trainer(args)
    print(json.dumps({'ready': True, 'threads': torch.get_num_threads(), 'torch': torch.__version__}), flush=True)
    for line in sys.stdin:
        if line.strip() != 'step':
            continue
        t0 = time.perf_counter()
        t.train_step()
        print(json.dumps({'ms': (time.perf_counter() - t0) * 1000}), flush=True)


def load_config(args):
    cfg = json.load(open(args.config))
    for kv in args.set or []:
        k, v = kv.split('=', 1)
        cfg[k] = json.loads(v) if k not in ('selection', 'mix', 'norm', 'optimizer', 'centerThreshold') else v
    return cfg


def cmd_train(args):
    cfg = load_config(args)
    torch.set_num_threads(args.threads)
    header, data = load_data(args.data)
    (xtr, ytr), (xte, yte) = data['train'], data['test']
    t = Trainer(cfg, xtr, cfg['seed'])
    hist = [{'step': 0, 'knnTop1': t.knn_top1(xtr, ytr, xte, yte)}]
    print(json.dumps(hist[-1]), flush=True)
    losses = []
    t0 = time.perf_counter()
    for step in range(1, args.steps + 1):
        losses.append(t.train_step())
        if step % args.eval_every == 0 or step == args.steps:
            hist.append({'step': step, 'knnTop1': t.knn_top1(xtr, ytr, xte, yte), 'lossMean': float(np.mean(losses[-args.eval_every:])), 'seconds': time.perf_counter() - t0})
            print(json.dumps(hist[-1]), flush=True)
    if args.out:
        json.dump({'config': cfg, 'data': header, 'history': hist, 'losses': losses}, open(args.out, 'w'))


def cmd_check(args):
    """Recompute loss and gradients from a dump of bench/reference/dump-step.ts."""
    d = args.dump
    man = json.load(open(os.path.join(d, 'manifest.json')))
    blob = np.fromfile(os.path.join(d, 'tensors.bin'), dtype=np.float32)

    def get(name):
        e = man['tensors'][name]
        return blob[e['offset']:e['offset'] + int(np.prod(e['shape']))].reshape(e['shape'])
    cfg = man['config']
    torch.set_num_threads(args.threads)
    specs = param_specs(cfg)
    q = Encoder(cfg, {n: tfjs_to_torch(n, get('param/' + n)).requires_grad_(True) for n, _, _ in specs})
    k = Encoder(cfg, {n: tfjs_to_torch(n, get('param/' + n)) for n, _, _ in specs})
    R = len(cfg['resolutions'])
    img = lambda name: torch.from_numpy(get(name).copy()).permute(0, 3, 1, 2).contiguous()
    keys = []
    with torch.no_grad():
        for s in range(R):
            kz = k.embed(torch.cat([img(f'keyAnchor/{s}'), img(f'keyPositive/{s}')]))
            B = kz.shape[0] // 2
            keys.append((kz[:B], kz[B:]))
    total = 0
    for r in range(R):
        qz = q.embed(img(f'query/{r}'))
        lam = torch.from_numpy(get(f'lambda/{r}').copy())
        for s in range(R):
            total = total + mixed_info_nce(qz, keys[s][0], keys[s][1], torch.from_numpy(get(f'queue/{s}').copy()), lam, cfg['temperature'])[0]
    loss = total / (R * R)
    grads = torch.autograd.grad(loss, q.parameters())
    worst = 0.0
    per = {}
    for (n, _, _), g in zip(specs, grads):
        ref = get('grad/' + n)
        mine = torch_to_tfjs(g)
        rel = float(np.linalg.norm(mine - ref) / max(np.linalg.norm(mine), 1e-12))
        per[n] = rel
        worst = max(worst, rel)
    res = {'lossTorch': float(loss), 'lossTfjs': man['loss'], 'lossRelDiff': abs(float(loss) - man['loss']) / abs(float(loss)),
           'gradWorstRelDiff': worst, 'gradWorstParam': max(per, key=per.get), 'gradRelDiff': per}
    print(json.dumps(res))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest='cmd', required=True)
    b = sub.add_parser('bench')
    b.add_argument('--steps', type=int, default=10)
    sv = sub.add_parser('serve')
    for p in (b, sv):  # warm_trainer's arguments
        p.add_argument('--config', required=True)
        p.add_argument('--data')
        p.add_argument('--size', type=int, default=32)
        p.add_argument('--threads', type=int, default=1)
        p.add_argument('--warmup', type=int, default=2)
    t = sub.add_parser('train')
    t.add_argument('--config', required=True)
    t.add_argument('--data', required=True)
    t.add_argument('--threads', type=int, default=2)
    t.add_argument('--steps', type=int, default=200)
    t.add_argument('--eval-every', type=int, default=50)
    t.add_argument('--out')
    for p in (b, sv, t):
        p.add_argument('--set', action='append', help='override a config field, e.g. --set lr=0.1')
    c = sub.add_parser('check')
    c.add_argument('--dump', required=True)
    c.add_argument('--threads', type=int, default=1)
    args = ap.parse_args()
    {'bench': cmd_bench, 'serve': cmd_serve, 'train': cmd_train, 'check': cmd_check}[args.cmd](args)


if __name__ == '__main__':
    main()
