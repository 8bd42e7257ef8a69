"""Training the conditional GAN: one function, top to bottom, like NVlabs/edm's training_loop.

Each step: sample a label-balanced batch of real windows (augmented on the device), ask the
generator for a random label per window (half the time the other one), then
- D: hinge loss on real (for its true label) vs fake (for the requested label), per patch,
  weighted to the patches that see the region; plus a classification loss on real windows.
- G: fool D for the requested label, be classified as it, and, where the requested label is the
  real one, reconstruct the real region (masked L1). With a guide (a frozen mustache classifier
  trained beforehand on real windows), G is also judged by it: D's own class head is trained on
  real windows only and is fooled by a faint dark smear, the guide was trained to reject
  painted-over regions, so it asks for a mustache with the texture of hair.
The EMA of G is what samples and checkpoints ship (``generator_ema``).

Resuming restores everything that shapes the future (weights, optimisers, scheduler, EMA, step,
every RNG, per rank), so N steps + resume + N steps equals 2N steps.
"""

from __future__ import annotations

import json
import math
import random
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from data_prep.config import from_dict, to_dict
from data_prep.pixels import mask_to_model, to_model, to_uint8
from mustache.errors import BadInput, WorkFailed
from mustache.learn import checkpoint as ckpt_io
from mustache.learn import distributed
from mustache.learn.run_state import (
    cpu_state,
    gather_rng,
    get_rng,
    new_run_dir,
    set_rng,
    truncate_stats,
)
from mustache.learn.train_config import (
    MACHINE,
    _preset,
    resolve_config,
    saved_config,
)

VERSION = 1


def training_loop(
    data: str | Path | None = None,  # dataset folder (`mustache prep` output)
    run_dir: str | Path | None = None,  # this run's folder; None: a new runs/NNNNN-<preset>
    runs_root: str | Path = "runs",  # where new run folders go
    resume: str | Path | None = None,  # checkpoint file or run folder to continue
    grid_per_label: int = 8,  # held-out windows of each label in the sample grid
    progress: bool = True,  # tqdm bar on rank 0
    **options: Any,  # any other TrainConfig field, by name (None: not given)
) -> Path:
    """Train (or continue) a run; returns its folder. ``options`` are :class:`TrainConfig`'s
    fields (documented there, once); one left out or None is not given: a resumed run takes it
    from its checkpoint, a new one from the preset or TrainConfig (:func:`resolve_config`,
    TypeError naming an unknown one). Raises BadInput on bad input, WorkFailed on a non-finite
    loss."""
    explicit = {"data": data, **options}
    from data_prep.build import read_prep_config
    from data_prep.dataset import (
        TRAINING_FIELDS,
        holdout_split,
        label_index,
        load_windows,
        rank_share,
        read_manifest,
    )
    from mustache.device import autocast, memory_format, resolve_device
    from mustache.learn.ema import make_ema, update_ema
    from mustache.learn.models.discriminator import Discriminator, DiscriminatorConfig
    from mustache.learn.models.generator import Generator, GeneratorConfig

    # ---- options: explicit > checkpoint (when resuming) > preset ----
    ckpt = saved = None
    if resume is not None:
        ckpt = ckpt_io.load(resume, ckpt_io.GAN_KIND)
        p = ckpt_io.resolve(resume)
        missing = [k for k in ("generator", "discriminator", "generator_ema", "optimizers",
                               "step", "rng", "train_config", "generator_config",
                               "discriminator_config") if k not in ckpt]
        if missing:
            raise BadInput(f"{p}: cannot resume from it, it lacks {', '.join(missing)}")
        saved = saved_config(ckpt, p)
        own = p.parent.parent if p.parent.name == "checkpoints" else p.parent
        if run_dir is not None and Path(run_dir).resolve() != own.resolve():
            raise BadInput(f"--out {run_dir}: a resumed run continues in its own folder ({own})")
        run_dir = own
    cfg = resolve_config(explicit, saved)
    changed = {} if saved is None else {
        k: v for k, v in to_dict(cfg).items() if v != getattr(saved, k) and k not in MACHINE}
    data = Path(cfg.data)
    if ckpt is None:
        pre = _preset(cfg.preset)
        g_cfg, d_cfg = pre.generator, pre.discriminator
    else:  # the configs the weights were built with, whatever presets say now
        try:
            g_cfg = from_dict(GeneratorConfig, ckpt["generator_config"])
            d_cfg = from_dict(DiscriminatorConfig, ckpt["discriminator_config"])
        except (TypeError, ValueError) as e:
            raise BadInput(f"{ckpt_io.resolve(resume)}: checkpoint does not match the model "
                           f"({type(e).__name__})") from None

    guide_net = None
    if cfg.guide is not None:
        from mustache.learn.classify import load_classifier

        guide_net, _ = load_classifier(cfg.guide)
        if guide_net.config.size != g_cfg.size:
            raise BadInput(f"{cfg.guide}: the guide classifier takes {guide_net.config.size} px "
                           f"windows, the generator makes {g_cfg.size} px")

    # ---- processes and device ----
    dist = distributed.init(cfg.device)
    dev = resolve_device(cfg.device)  # BadInput naming the device
    if dev.type == "cuda" and dist.world > 1:
        dev = torch.device("cuda", dist.local_rank)
    if cfg.batch_size % dist.world or cfg.batch_size // dist.world < 2:
        raise BadInput(f"--batch-size {cfg.batch_size} must split into >= 2 per rank over "
                       f"{dist.world} ranks")
    local_batch = cfg.batch_size // dist.world
    fmt = memory_format(dev)
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True

    # ---- data: labelled windows of training persons, this rank's share, decoded once ----
    try:
        records = read_manifest(data, TRAINING_FIELDS)
    except FileNotFoundError:
        raise BadInput(f"{data}: dataset folder not found (run `mustache prep` first)"
                       ) from None
    if not records:
        raise BadInput(f"{data}: dataset is empty (no manifest*.jsonl lines)")
    labels_all = np.array([label_index(r.get("label")) for r in records])
    train_idx, held_idx = holdout_split(records, cfg.holdout)
    by_label = [[i for i in train_idx if labels_all[i] == k] for k in (0, 1)]
    if min(len(x) for x in by_label) < dist.world:
        raise BadInput(f"{data}: training needs both labels, found {len(by_label[0])} clean "
                       f"and {len(by_label[1])} mustache windows outside the held-out persons")
    mine = rank_share(train_idx, labels_all, dist.rank, dist.world)  # only these are decoded
    held = [[i for i in held_idx if labels_all[i] == k][:grid_per_label] for k in (0, 1)]
    grid_idx = held[0] + held[1] or train_idx[:grid_per_label]  # tiny datasets: no held-out
    wanted = mine[0] + mine[1] + (grid_idx if dist.main else [])
    windows, masks = _decode(load_windows, data, [records[i] for i in wanted], cfg.workers)
    n0, n1 = len(mine[0]), len(mine[1])
    # uint8 on the device: a batch is one gather, no host round trip (15k windows: ~1 GB)
    win_u8 = torch.from_numpy(windows[:n0 + n1]).to(dev)
    mask_u8 = torch.from_numpy(masks[:n0 + n1]).to(dev)
    size = win_u8.shape[1]
    if size != g_cfg.size:
        raise BadInput(f"{data}: windows are {size} px, the {cfg.preset} model wants {g_cfg.size}")

    # ---- networks, optimisers, EMA ----
    torch.manual_seed(cfg.seed)  # same initial weights on every rank
    g_net, d_net = Generator(g_cfg), Discriminator(d_cfg)
    g_ema = make_ema(g_net)
    opt_g = torch.optim.Adam(g_net.parameters(), lr=cfg.lr_g, betas=(0.0, 0.99))
    opt_d = torch.optim.Adam(d_net.parameters(), lr=cfg.lr_d, betas=(0.0, 0.99))

    def ramp(s):  # the scheduler: linear warm-up, then constant (GANs like a steady lr)
        return min(1.0, (s + 1) / max(1, cfg.warmup))

    # schedulers before loading: their constructor resets the lr the optimiser state holds
    sched_g = torch.optim.lr_scheduler.LambdaLR(opt_g, ramp)
    sched_d = torch.optim.lr_scheduler.LambdaLR(opt_d, ramp)
    step = 0
    if ckpt is not None:
        try:
            g_net.load_state_dict(ckpt["generator"])
            d_net.load_state_dict(ckpt["discriminator"])
            g_ema.load_state_dict(ckpt["generator_ema"])
            opt_g.load_state_dict(ckpt["optimizers"]["g"])
            opt_d.load_state_dict(ckpt["optimizers"]["d"])
            sched_g.load_state_dict(ckpt["schedulers"]["g"])
            sched_d.load_state_dict(ckpt["schedulers"]["d"])
            # the loaded states carry the learning rates they ran with; a new one applies now
            for opt, sched, lr in ((opt_g, sched_g, cfg.lr_g), (opt_d, sched_d, cfg.lr_d)):
                sched.base_lrs = [lr] * len(opt.param_groups)
                for group in opt.param_groups:
                    group["initial_lr"], group["lr"] = lr, lr * ramp(sched.last_epoch)
        except (KeyError, RuntimeError, ValueError) as e:
            raise BadInput(f"{ckpt_io.resolve(resume)}: checkpoint does not match the model "
                           f"({type(e).__name__})") from None
        step = int(ckpt["step"])
    for net in (g_net, d_net, g_ema, guide_net):
        if net is not None:
            net.to(dev, memory_format=fmt)
    for opt in (opt_g, opt_d):  # loaded optimiser state lives on the CPU
        for st in opt.state.values():
            for k, v in st.items():
                if torch.is_tensor(v) and k != "step":
                    st[k] = v.to(dev)

    g_train, d_train, d_judge = g_net, d_net, d_net
    if dist.world > 1:
        from torch.nn.parallel import DistributedDataParallel as DDP

        ids = [dev.index] if dev.type == "cuda" else None
        g_train, d_train = DDP(g_net, device_ids=ids), DDP(d_net, device_ids=ids)
    if cfg.compile:
        g_train, d_train, d_judge = (torch.compile(m) for m in (g_train, d_train, d_judge))

    # ---- RNG: seeded per rank, or restored exactly ----
    sampler = np.random.default_rng([cfg.seed, dist.rank])
    torch.manual_seed(cfg.seed * 1000 + dist.rank)
    np.random.seed((cfg.seed * 1000 + dist.rank) % 2**32)
    random.seed(cfg.seed * 1000 + dist.rank)
    if ckpt is not None:
        states = ckpt["rng"]
        if len(states) == dist.world:
            set_rng(states[dist.rank], sampler, dev)
        elif dist.main:
            print(f"resuming on {dist.world} ranks from {len(states)}: RNG streams start afresh")

    # ---- run folder, config.json, fixed held-out windows for the sample grids ----
    prep_config = to_dict(read_prep_config(data))
    run = None
    if dist.main:
        from data_prep.image_io import atomic_write_bytes

        run = Path(run_dir) if run_dir is not None else new_run_dir(Path(runs_root), cfg.preset)
        run.mkdir(parents=True, exist_ok=True)
        stats_path, options_path = run / "stats.jsonl", run / "config.json"
        resumes = []
        if ckpt is not None:  # forget stats and resumes after the checkpoint we continue from
            truncate_stats(stats_path, step)
            old = json.loads(options_path.read_text()) if options_path.is_file() else {}
            resumes = [r for r in old.get("resumes", []) if r["step"] < step]
            resumes.append({"step": step, "changed": changed})
        atomic_write_bytes(options_path, json.dumps(dict(
            to_dict(cfg), world_size=dist.world, generator=to_dict(g_cfg),
            discriminator=to_dict(d_cfg), prep_config=prep_config, torch=torch.__version__,
            counts=dict(clean=len(by_label[0]), mustache=len(by_label[1]),
                        held_out_persons_windows=len(held_idx)),
            resumes=resumes), indent=2).encode())
        grid_win = to_model(torch.from_numpy(windows[n0 + n1:]).to(dev))
        grid_mask = mask_to_model(torch.from_numpy(masks[n0 + n1:]).to(dev))
        grid_labels = labels_all[grid_idx]
        grid_noise = torch.randn(len(grid_idx), g_cfg.noise_dim,
                                 generator=torch.Generator().manual_seed(cfg.seed)).to(dev)
    del windows, masks

    def save_checkpoint():
        rng = gather_rng(get_rng(sampler, dev), dist)
        if not dist.main:
            return
        payload = {
            "kind": ckpt_io.GAN_KIND, "version": VERSION,
            "generator_config": to_dict(g_cfg),
            "generator_ema": cpu_state(g_ema.state_dict()), "prep_config": prep_config,
            "generator": cpu_state(g_net.state_dict()), "discriminator": cpu_state(d_net.state_dict()),
            "discriminator_config": to_dict(d_cfg),
            "optimizers": {"g": cpu_state(opt_g.state_dict()), "d": cpu_state(opt_d.state_dict())},
            "schedulers": {"g": sched_g.state_dict(), "d": sched_d.state_dict()},
            "step": step, "rng": rng, "train_config": to_dict(cfg), "world_size": dist.world,
        }
        ckpt_io.save(run / "checkpoints" / f"step-{step:07d}.pt", payload)
        ckpt_io.save(run / "checkpoints" / "latest.pt", payload)

    def save_samples():
        with torch.no_grad(), autocast(dev):
            outs = [g_ema(grid_win, grid_mask, torch.full_like(grid_mask[:, 0, 0, 0], k).long(),
                          grid_noise) for k in (0, 1)]
        real_u8, clean_u8, mustache_u8 = (to_uint8(x).cpu().numpy()
                                          for x in (grid_win, outs[0], outs[1]))
        tiles, caps = [], []
        for i in range(len(grid_idx)):
            tiles += [real_u8[i], clean_u8[i], mustache_u8[i]]
            caps += [f"real {('clean', 'mustache', '?')[grid_labels[i]]}", "-> clean",
                     "-> mustache"]
        from data_prep.contact_sheet import grid
        from data_prep.image_io import save_image

        save_image(run / f"samples-{step:07d}.png", grid(tiles, cols=12, captions=caps))

    # ---- the loop ----
    if dist.main:
        with open(stats_path, "a") as f:
            event = {"event": "start", "step": step, "time": time.time()}
            if ckpt is not None:
                event.update(event="resume", changed=changed)
            f.write(json.dumps(event) + "\n")
        if step == 0:
            save_samples()
    bar = None
    if progress and dist.main:
        from tqdm import tqdm

        bar = tqdm(total=cfg.steps, initial=step, unit="step", desc="train", dynamic_ncols=True)
    t_log, n_log, t_start = time.perf_counter(), 0, time.time()
    sums = torch.zeros(6, device=dev)  # d_adv, d_cls, g_adv, g_cls, g_rec, g_guide since the log
    while step < cfg.steps:
        # label-balanced batch: half clean, half mustache, sampled with replacement
        k1 = local_batch // 2
        pick = np.concatenate([sampler.integers(0, n0, local_batch - k1),
                               n0 + sampler.integers(0, n1, k1)])
        idx = torch.from_numpy(pick).to(dev)
        label = (idx >= n0).long()
        real, mask = _augment(to_model(win_u8[idx]), mask_to_model(mask_u8[idx]))
        real, mask = (real.contiguous(memory_format=fmt), mask.contiguous(memory_format=fmt))
        target = torch.randint(0, 2, (local_batch,), device=dev)
        noise = torch.randn(local_batch, g_cfg.noise_dim, device=dev)

        with autocast(dev):
            fake = g_train(real, mask, target, noise)

        # D: real for its label, fake for the asked one, per patch near the region
        with autocast(dev):
            patch, cls = d_train(torch.cat([real, fake.detach()]), torch.cat([mask, mask]),
                                 torch.cat([label, target]))
        patch, cls = patch.float(), cls.float()
        w = d_net.patch_weight(mask, patch.shape[-1]).float()
        p_real, p_fake = patch.chunk(2)
        d_adv = _wmean(F.relu(1 - p_real), w) + _wmean(F.relu(1 + p_fake), w)
        d_cls = F.binary_cross_entropy_with_logits(cls[:local_batch], label.float())
        opt_d.zero_grad(set_to_none=True)
        (d_adv + cfg.cls_weight * d_cls).backward()
        opt_d.step()

        # G: fool D for the asked label, be classified as it, reconstruct when it is the real one
        d_net.requires_grad_(False)
        with autocast(dev):
            p_fake, c_fake = d_judge(fake, mask, target)
        g_adv = -_wmean(p_fake.float(), w)
        g_cls = F.binary_cross_entropy_with_logits(c_fake.float(), target.float())
        same = (target == label).float()[:, None, None, None] * mask
        g_rec = ((fake.float() - real).abs() * same).sum() / (3 * same.sum()).clamp_min(1.0)
        g_guide = torch.zeros((), device=dev)
        if guide_net is not None:
            # judged through a random flip, shift, scale and colour change: a pattern that fools
            # the guide from one exact view does not survive them, hair does
            seen, seen_mask = _augment(fake, mask)
            with autocast(dev):
                judged = guide_net(seen, seen_mask if guide_net.config.use_mask else None)
            g_guide = F.binary_cross_entropy_with_logits(judged.float(), target.float())
        opt_g.zero_grad(set_to_none=True)
        (g_adv + cfg.cls_weight * g_cls + cfg.rec_weight * g_rec + cfg.guide_weight * g_guide).backward()
        opt_g.step()
        d_net.requires_grad_(True)
        sched_g.step()
        sched_d.step()
        update_ema(g_ema, g_net, step, cfg.ema_beta)
        step += 1
        n_log += 1
        sums += torch.stack([d_adv, d_cls, g_adv, g_cls, g_rec, g_guide]).detach()
        if bar is not None:
            bar.update(1)

        last = step == cfg.steps
        if step % cfg.log_every == 0 or last:
            losses = distributed.mean(sums / n_log, dist).tolist()
            if distributed.any_flag(not all(math.isfinite(v) for v in losses), dist, dev):
                raise WorkFailed(f"loss became non-finite by step {step} (losses "
                                 f"{[round(v, 4) for v in losses]}); try a lower --lr-g/--lr-d")
            dt = time.perf_counter() - t_log
            line = dict(zip(("d_adv", "d_cls", "g_adv", "g_cls", "g_rec", "g_guide"),
                            (round(v, 5) for v in losses), strict=True))
            line = {"step": step, **line, "img_per_s": round(n_log * cfg.batch_size / dt, 1),
                    "time": round(time.time() - t_start, 2)}
            if dist.main:
                with open(stats_path, "a") as f:
                    f.write(json.dumps(line) + "\n")
                if bar is not None:
                    bar.set_postfix(d=f"{losses[0]:.2f}", g=f"{losses[2]:.2f}",
                                    rec=f"{losses[4]:.3f}", ips=line["img_per_s"])
            t_log, n_log = time.perf_counter(), 0
            sums.zero_()
        if dist.main and (step % cfg.sample_every == 0 or last):
            save_samples()
        if step % cfg.checkpoint_every == 0 or last:
            save_checkpoint()
    if bar is not None:
        bar.close()

    # ---- every rank must end with the same weights ----
    if dist.world > 1:
        sums_ = [float(sum(p.detach().double().sum() for p in n.parameters()))
                 for n in (g_net, d_net, g_ema)]
        every = distributed.gather_floats(sums_, dist, dev)
        if dist.main:
            with open(stats_path, "a") as f:
                f.write(json.dumps({"event": "ranks", "step": step, "checksums": every}) + "\n")
            if any(e != every[0] for e in every):
                raise WorkFailed(f"ranks ended with different weights: {every}")
    distributed.close(dist)
    return run


# ---- helpers: small, pure, no state ----

def _augment(window: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """On-device augmentation, alike for window (N, 3, S, S) and mask (N, 1, S, S): flip,
    small affine (scale 0.93-1.07, rotation +-6 deg, shift +-3 %), colour jitter: the ranges of
    data_prep.dataset.default_augment (albumentations, the classifier's). It stays in torch
    because it runs per batch where the batch is (a few ms on a GPU, no CPU worker) and it is
    differentiable: the guide judges the generator's output through it."""
    n, dev = window.shape[0], window.device
    u = torch.rand(n, 8, device=dev)
    flip = torch.where(u[:, 0] < 0.5, -1.0, 1.0)
    scale = 1 / (0.93 + 0.14 * u[:, 1])
    angle = (u[:, 2] * 2 - 1) * math.radians(6)
    cos, sin = torch.cos(angle) * scale, torch.sin(angle) * scale
    theta = torch.stack([torch.stack([cos * flip, -sin, (u[:, 3] * 2 - 1) * 0.06], 1),
                         torch.stack([sin * flip, cos, (u[:, 4] * 2 - 1) * 0.06], 1)], 1)
    grid = F.affine_grid(theta, list(window.shape), align_corners=False)
    both = F.grid_sample(torch.cat([window, mask], 1), grid, mode="bilinear",
                         padding_mode="reflection", align_corners=False)
    window, mask = both[:, :3], both[:, 3:]
    b = ((u[:, 5] * 2 - 1) * 0.3)[:, None, None, None]  # brightness +-0.15 of the range
    c = (0.85 + 0.3 * u[:, 6])[:, None, None, None]  # contrast
    s = (0.85 + 0.3 * u[:, 7])[:, None, None, None]  # saturation
    mean = window.mean(dim=(1, 2, 3), keepdim=True)
    window = (window - mean) * c + mean + b
    gray = window.mean(dim=1, keepdim=True)
    window = (window - gray) * s + gray
    return window.clamp(-1, 1), mask.clamp(0, 1)


def _wmean(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    return (x * w).sum() / w.sum().clamp_min(1e-6)


def _decode(load_windows, root: Path, records: list[dict], workers: int):
    """Decode windows and masks of ``records`` with threads (OpenCV releases the GIL)."""
    import os

    n = workers or os.cpu_count() or 1
    chunks = [records[i::n] for i in range(n) if records[i::n]]
    with ThreadPoolExecutor(n) as ex:
        parts = list(ex.map(lambda c: load_windows(root, c), chunks))
    wins, masks = np.empty((len(records), *parts[0].windows.shape[1:]), np.uint8), None
    masks = np.empty((len(records), *parts[0].masks.shape[1:]), np.uint8)
    for i, p in enumerate(parts):  # undo the round-robin split
        wins[i::len(parts)] = p.windows
        masks[i::len(parts)] = p.masks
    return wins, masks
