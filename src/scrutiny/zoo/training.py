"""Seeded training of small torch classifiers, and weights cached as plain arrays (npz +
JSON), never pickles."""

from __future__ import annotations

import hashlib
import json
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np

from scrutiny._cache import cache_dir
from scrutiny._files import clear_temporaries, temporary


def train(
    module,
    X,
    labels,
    *,
    epochs,
    seed,
    lr=1e-3,
    batch_size=64,
    weight_decay=0.0,
    progress=True,
    desc="training",
):
    """Adam on cross-entropy. The same seed gives the same weights on the same machine with
    the same number of torch threads (the order of floating-point sums depends on it); the
    caller's random numbers are left as they were (``seeded``)."""
    import torch
    from tqdm.auto import tqdm

    Xt = torch.as_tensor(X, dtype=torch.float32)
    yt = torch.as_tensor(labels, dtype=torch.int64)
    with torch.random.fork_rng(devices=[]):  # dropout draws from the global generator
        torch.manual_seed(int(seed))
        opt = torch.optim.Adam(module.parameters(), lr=lr, weight_decay=weight_decay)
        gen = torch.Generator().manual_seed(int(seed))
        module.train()
        for _ in tqdm(range(int(epochs)), desc=desc, disable=not progress):
            for idx in torch.randperm(len(Xt), generator=gen).split(batch_size):
                opt.zero_grad()
                loss = torch.nn.functional.cross_entropy(module(Xt[idx]), yt[idx])
                loss.backward()
                opt.step()
    module.eval()
    return module


def data_digest(*parts):
    """The first 16 hex digits of the SHA-256 of training data (arrays, or lists of texts),
    which a recipe records: a model trained on other data is not taken from the cache."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray) and part.dtype != object:
            a = np.ascontiguousarray(part)
            h.update(f"{a.dtype.str}{a.shape}".encode())
            h.update(a.tobytes())
        else:
            h.update("\0".join(map(str, part)).encode("utf-8", "surrogatepass"))
        h.update(b"|")
    return h.hexdigest()[:16]


def seeded(seed, make):
    """``make()`` (a module's construction) with torch's generator seeded with ``seed``,
    and then put back as it was: each seed starts from weights of its own (seed 0 from the
    published models'), and the caller's random numbers are left alone, also on a cache
    hit, where the module is built before the cached weights replace its own."""
    import torch

    with torch.random.fork_rng(devices=[]):  # the CPU's generator; CUDA's is not touched
        torch.manual_seed(seed)
        return make()


def accuracy(module, X, labels, batch_size=1000):
    import torch

    module.eval()
    with torch.no_grad():
        pred = [
            module(torch.as_tensor(X[i : i + batch_size], dtype=torch.float32)).argmax(dim=1)
            for i in range(0, len(X), batch_size)
        ]
    return float((torch.cat(pred).numpy() == labels).mean())


_FACTS = "__facts__"  # the JSON of a cached model's facts, kept inside its weights' .npz


def cached(name, recipe, build, fit, progress=True):
    """The module ``build()`` with weights from the cache, or trained by ``fit(module)``
    (which returns a dict of facts to record) and then cached. Returns (module, facts).

    ``recipe`` (a JSON dict: seed, epochs, learning rate, ...) is recorded with the
    module's architecture and the torch version, and a cached model made by any other
    recipe is trained again rather than reused. A seed other than 0 is recorded as the
    seed of the initial weights too: those models started from seed 0's weights before
    ``seeded``, and are trained again. A cache that cannot be written costs a warning, not
    the trained model."""
    import torch

    if not name or Path(name).name != name or name in (".", ".."):
        raise ValueError(  # "coreutils/gcc-O2" was never cached, "../x" written beside it
            f"a model's name is a plain file name (no / or ..), got {name!r}"
        )
    folder = cache_dir(create=False)  # made when the model is cached
    weights, info = folder / f"{name}.npz", folder / f"{name}.json"
    module = build()
    recipe = {**recipe, "architecture": repr(module), "torch": torch.__version__}
    if recipe.get("seed", 0) != 0:
        recipe["initial_weights_seed"] = recipe["seed"]
    if weights.is_file():
        try:
            with np.load(weights, allow_pickle=False) as f:
                state = {k: torch.from_numpy(f[k]) for k in f.files if k != _FACTS}
                # the facts of the weights in this very file (before: only the .json beside
                # it, which another training could replace between the two reads)
                text = str(f[_FACTS]) if _FACTS in f.files else info.read_text()
            facts = json.loads(text)
            if not isinstance(facts, dict):
                raise ValueError(f"{weights} does not hold a JSON object of facts")
            if facts.get("recipe") == json.loads(json.dumps(recipe)):
                module.load_state_dict(state)
                module.eval()
                return module, facts
            if progress:
                print(f"cached {weights} was trained by another recipe; training again")
        except (
            ValueError,
            KeyError,
            RuntimeError,
            TypeError,  # an array of text or dates, which torch cannot take
            OSError,
            EOFError,
            zipfile.BadZipFile,
        ):
            if progress:
                print(f"cached {weights} is unreadable; training again")
            module = build()  # a failed load_state_dict has set the weights it could
    t0 = time.perf_counter()
    facts = fit(module)
    module.eval()
    facts.update(
        train_seconds=time.perf_counter() - t0,
        torch_threads=torch.get_num_threads(),  # the last digits of the weights depend on it
        recipe=recipe,
    )
    text = json.dumps(facts, indent=2)  # before any file is touched
    try:
        folder.mkdir(parents=True, exist_ok=True)
        clear_temporaries(folder)  # those of trainings killed while writing
        tmp = temporary(weights)  # a name of its own: two trainings at once do not mix
        try:
            with open(tmp, "xb") as f:  # a file, not a name: savez would add ".npz"
                state = {k: v.detach().cpu().numpy() for k, v in module.state_dict().items()}
                np.savez(f, **state, **{_FACTS: np.array(text)})  # one rename: both
            tmp.replace(weights)
            info.write_text(text)  # for people to read; the weights' own facts are inside
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as exc:
        warnings.warn(f"could not cache the trained model in {weights.parent}: {exc}", stacklevel=2)
    return module, facts
