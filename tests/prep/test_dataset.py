import numpy as np
import torch

from data_prep.dataset import (
    TRAINING_FIELDS,
    WindowDataset,
    default_augment,
    holdout_split,
    label_index,
    load_windows,
    rank_share,
    read_manifest,
)


def test_windows_load_once_into_memory(synthetic_dataset):
    ws = load_windows(synthetic_dataset)
    assert ws.windows.shape == (16, 128, 128, 3) and ws.windows.dtype == np.uint8
    assert ws.masks.shape == (16, 128, 128) and ws.masks.dtype == np.uint8
    assert ws.counts() == {"clean": 8, "mustache": 8}
    sub = ws.subset([0, 3])
    assert len(sub) == 2 and sub.records[1] is ws.records[3]


def test_items_are_model_ready(synthetic_dataset):
    ds = WindowDataset(load_windows(synthetic_dataset), default_augment(seed=0))
    item = ds[0]
    assert item["window"].shape == (3, 128, 128) and item["window"].dtype == torch.float32
    assert -1.0 <= item["window"].min() and item["window"].max() <= 1.0
    assert item["mask"].shape == (1, 128, 128) and 0 <= item["mask"].min() <= item["mask"].max() <= 1
    assert item["label"].item() in (0, 1)


def test_augmentation_moves_window_and_mask_together(synthetic_dataset):
    """A window that is a picture of its own mask stays aligned with the mask after the
    geometric and colour augmentation."""
    from data_prep.dataset import WindowSet

    ws = load_windows(synthetic_dataset)
    pictures = np.repeat(ws.masks[:, :, :, None], 3, axis=3)
    ds = WindowDataset(WindowSet(pictures, ws.masks, ws.labels, ws.records), default_augment(seed=0))
    for i in range(6):
        item = ds[i]
        w = item["window"].mean(0).flatten()
        m = item["mask"][0].flatten()
        assert np.corrcoef(w.numpy(), m.numpy())[0, 1] > 0.97


def test_augmentation_repeats_with_its_seed(synthetic_dataset):
    """The classifier's training batches are repeatable from its seed."""
    ws = load_windows(synthetic_dataset)
    a, b, c = (WindowDataset(ws, default_augment(seed=s)) for s in (0, 0, 1))
    first = [a[i]["window"] for i in range(4)]
    assert all(torch.equal(x, b[i]["window"]) for i, x in enumerate(first))
    assert not all(torch.equal(x, c[i]["window"]) for i, x in enumerate(first))
    assert not all(torch.equal(x, WindowDataset(ws)[i]["window"]) for i, x in enumerate(first))


def test_holdout_is_by_person_and_stable():
    recs = [{"source": f"P{i % 7}/P{i % 7}_{i:04d}.jpg", "person": f"P{i % 7}"} for i in range(70)]
    a = holdout_split(recs, 0.3)
    assert a == holdout_split(recs, 0.3)
    held_people = {recs[i]["person"] for i in a[1]}
    train_people = {recs[i]["person"] for i in a[0]}
    assert held_people.isdisjoint(train_people) and held_people


def test_manifest_reader_and_labels(synthetic_dataset):
    assert len(read_manifest(synthetic_dataset)) == 16
    assert [label_index(x) for x in ("clean", "mustache", None)] == [0, 1, -1]


def test_ranks_share_the_training_set_disjointly_and_balanced():
    records = [{"id": f"{i:04d}", "person": f"p{i // 3}", "source": f"p{i}.jpg",
                "label": ("clean", "mustache", None)[i % 5 % 3]} for i in range(500)]
    labels = np.array([label_index(r["label"]) for r in records])
    train, held = holdout_split(records, 0.1)
    labelled = {i for i in train if labels[i] >= 0}
    for world in (2, 3):
        shares = [rank_share(train, labels, r, world) for r in range(world)]
        flat = [i for clean, must in shares for i in clean + must]
        assert len(flat) == len(set(flat)) and set(flat) == labelled  # disjoint, covering
        assert not set(flat) & set(held)  # the same hold-out on every rank
        for clean, must in shares:
            assert all(labels[i] == 0 for i in clean) and all(labels[i] == 1 for i in must)
        for k in (0, 1):  # balanced: each rank within one window of the others, per label
            sizes = [len(share[k]) for share in shares]
            assert max(sizes) - min(sizes) <= 1
    one = rank_share(train, labels, 0, 1)  # one process: everything, in the training order
    assert one == [[i for i in train if labels[i] == k] for k in (0, 1)]


def test_training_reads_only_the_fields_it_needs(synthetic_dataset):
    full, slim = read_manifest(synthetic_dataset), read_manifest(synthetic_dataset, TRAINING_FIELDS)
    assert [r["id"] for r in slim] == [r["id"] for r in full]
    assert all(set(r) == set(TRAINING_FIELDS) for r in slim)
    assert "landmarks" in full[0]
    # the same windows, labels and split either way
    assert holdout_split(slim, 0.3) == holdout_split(full, 0.3)
    assert (load_windows(synthetic_dataset, slim).windows == load_windows(synthetic_dataset, full).windows).all()
