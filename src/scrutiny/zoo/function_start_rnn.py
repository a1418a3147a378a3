"""The reference function-start finder: LEMNA's bidirectional RNN over the bytes of
``.text`` (as its authors released it: an embedding of 257 ids in 16 dimensions, a
bidirectional ReLU RNN of 8 units a direction, dropout 0.5, a dense layer to 2 classes at
every position), trained on sequences of 200 bytes of x86-64 programs.

``FunctionStartRNN`` labels every byte of a sequence; ``AtPosition`` asks it about one
position, as the explanations do: a classifier of (n, length) byte ids into "not a start"
and "a start", returning logits (``outputs="logits"``).
"""

from __future__ import annotations

import hashlib
from functools import partial

import numpy as np

from scrutiny._validation import TORCH_SEEDS, whole_number
from scrutiny.datasets.binaries import chunks
from scrutiny.zoo.training import cached, seeded

EPOCHS = 20
LENGTH = 200


def _modules():
    import torch
    from torch import nn

    class FunctionStartRNN(nn.Module):
        """(n, length) byte ids (0 = no byte) -> (n, length, 2) logits."""

        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(257, 16, padding_idx=0)
            self.rnn = nn.RNN(16, 8, nonlinearity="relu", bidirectional=True, batch_first=True)
            self.drop = nn.Dropout(0.5)
            self.out = nn.Linear(16, 2)

        def forward(self, ids):
            hidden, _ = self.rnn(self.embed(_checked_ids(ids)))
            return self.out(self.drop(hidden))

    def _checked_ids(ids):
        """``ids`` as the embedding's indices, refused unless they are byte ids: whole
        numbers 0..256. Raw bytes (uint8) are refused too: their 0x00 would read as "no
        byte", and every other byte as its neighbour."""
        if ids.ndim != 2:  # torch's RNN reads one row (length,) as one unbatched sequence
            raise ValueError(
                f"the function-start RNN takes rows of byte ids (n, length), got shape "
                f"{tuple(ids.shape)}: one row is ids[None]"
            )
        if ids.dtype == torch.uint8:
            raise TypeError(
                "the function-start RNN takes byte ids, not raw bytes (uint8): pass "
                "scrutiny.datasets.binaries.byte_ids(code), where byte b is id b + 1 and 0 "
                "is no byte"
            )
        bad = (ids < 0) | (ids > 256)
        if ids.is_floating_point():
            bad |= ids != ids.round()
        if bad.any():
            where = tuple(int(i) for i in bad.nonzero()[0])
            raise ValueError(
                f"byte ids are whole numbers 0..256 (byte b is b + 1, 0 no byte); got "
                f"{ids[where].item():g} at {where}"
            )
        return ids.long()

    class AtPosition(nn.Module):
        """The RNN's (n, 2) logits at one position of (n, length) byte ids: the classifier
        an explanation of that byte's label queries."""

        def __init__(self, rnn, position):
            super().__init__()
            self.rnn, self.position = rnn, int(position)

        def forward(self, ids):
            if not -ids.shape[-1] <= self.position < ids.shape[-1]:
                raise ValueError(
                    f"position {self.position} is outside rows of {ids.shape[-1]} bytes"
                )
            return self.rnn(ids)[:, self.position]

    return torch, FunctionStartRNN, AtPosition


def build(seed=0):
    _, FunctionStartRNN, _ = _modules()
    return seeded(seed, FunctionStartRNN)


def at_position(rnn, position=LENGTH // 2):
    """The classifier of one position's label (logits), for ``Explainer(...,
    outputs="logits")``, the fidelity tests and the baselines."""
    _, _, AtPosition = _modules()
    position = whole_number(position, "position", -(2**63))  # 100.7 was byte 100's
    return AtPosition(rnn, position).eval()


def train_labeller(module, ids, labels, *, epochs, seed, lr=3e-3, batch_size=100, progress=True):
    """Adam on every real byte's cross-entropy (padding left out), seeded as
    ``training.train``."""
    import torch
    from tqdm.auto import tqdm

    X = torch.as_tensor(ids, dtype=torch.int64)
    y = torch.as_tensor(labels, dtype=torch.int64)
    with torch.random.fork_rng(devices=[]):  # the caller's random numbers left alone
        torch.manual_seed(int(seed))
        opt = torch.optim.Adam(module.parameters(), lr=lr)
        gen = torch.Generator().manual_seed(int(seed))
        module.train()
        desc = "training the function-start RNN"
        for _ in tqdm(range(int(epochs)), desc=desc, disable=not progress):
            for idx in torch.randperm(len(X), generator=gen).split(batch_size):
                opt.zero_grad()
                real = X[idx] > 0
                loss = torch.nn.functional.cross_entropy(module(X[idx])[real], y[idx][real])
                loss.backward()
                opt.step()
    module.eval()
    return module


def labelling_scores(module, ids, labels, batch_size=500):
    """Precision, recall and F1 of "a start" over every real byte, as ByteWeight and LEMNA
    report them."""
    import torch

    module.eval()
    with torch.no_grad():
        pred = np.concatenate(
            [
                module(torch.as_tensor(ids[i : i + batch_size])).argmax(-1).numpy()
                for i in range(0, len(ids), batch_size)
            ]
        )
    real = ids > 0
    p, t = pred[real] == 1, labels[real] == 1
    tp = float((p & t).sum())
    precision = tp / max(p.sum(), 1)
    recall = tp / max(t.sum(), 1)
    f1 = 2 * precision * recall / max(precision + recall, 1e-12)
    return {"precision": float(precision), "recall": float(recall), "f1": float(f1)}


def function_start_rnn(train_programs, test_programs, name, seed=0, epochs=EPOCHS, progress=True):
    """(module, facts): the RNN trained on ``train_programs`` (``datasets.binaries``
    ``Program``s) cut into 200-byte sequences, cached under ``name`` (say which programs
    and compiler), and facts including precision, recall and F1 on ``test_programs``."""
    seed = whole_number(seed, "seed", 0, TORCH_SEEDS)  # numpy's too: the facts are JSON
    epochs = whole_number(epochs, "epochs", 0)
    ids, labels = chunks(train_programs, LENGTH)
    test_ids, test_labels = chunks(test_programs, LENGTH)
    recipe = {
        "epochs": int(epochs),
        "seed": int(seed),
        "lr": 3e-3,
        "batch_size": 100,
        "data": [
            [p.name, int(p.code.size), int(p.starts.sum()), _digest(p)] for p in train_programs
        ],
        "test_data": [[p.name, int(p.code.size), _digest(p)] for p in test_programs],
    }

    def fit(module):
        train_labeller(module, ids, labels, epochs=epochs, seed=seed, progress=progress)
        return {
            "model": "function-start-birnn-257-16-8x2-2",
            "seed": seed,
            "epochs": epochs,
            "train_sequences": len(ids),
            "train": labelling_scores(module, ids, labels),
            "test": labelling_scores(module, test_ids, test_labels),
        }

    return cached(f"{name}_seed{seed}", recipe, partial(build, seed), fit, progress=progress)


def _digest(program):
    """The first 16 hex digits of the SHA-256 of a program's bytes and starts: programs of
    one name, size and number of starts (rebuilt, relabelled) are still told apart."""
    h = hashlib.sha256(np.ascontiguousarray(program.code, dtype=np.uint8).tobytes())
    h.update(np.packbits(np.asarray(program.starts, dtype=bool)).tobytes())
    return h.hexdigest()[:16]
