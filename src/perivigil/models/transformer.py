"""Optional fine-tuning of a French transformer (study protocol §6: CamemBERT / DrBERT).

Off by default (``models.transformer.enabled``). It needs the ``transformer`` extra
(``pip install -r requirements-transformer.lock``: torch, transformers) and a local
directory holding the weights and the tokenizer (``models.transformer.path``): nothing
is downloaded (``local_files_only``), since the study's machines may have no internet.

Fine-tuning is a plain PyTorch loop rather than ``transformers.Trainer``: fewer moving
parts to audit, and every random draw (the classification head's initialisation, the
batch order, dropout) takes its seed from config. Class imbalance is handled by a
class-weighted cross-entropy (weights ``n / (2 n_c)``, as scikit-learn's "balanced").
The number of epochs is chosen inside the training split only: a fraction of its
threads is held out (one fold of a seeded ``StratifiedGroupKFold``, so that both classes
are held out when the data allow), and the weights of the epoch with the best F1 on
them are kept. A saved model carries its settings, the SHA-256 of its
training data and of the base weights.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedGroupKFold

from perivigil.errors import InputError
from perivigil.logs import Progress
from perivigil.provenance import file_sha256

RECORD_NAME = "perivigil.json"
EXTRA_HINT = "install the 'transformer' extra: pip install -r requirements-transformer.lock"


def _modules():
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise InputError(
            f"the transformer model needs torch and transformers ({exc.name} is missing): {EXTRA_HINT}"
        ) from None
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    return torch, transformers


def _from_pretrained(directory: Path, num_labels: int | None):
    """Tokenizer and sequence classifier of a local folder; a broken folder gets a one-line error."""
    _, transformers = _modules()
    from safetensors import SafetensorError  # installed with transformers

    extra = {} if num_labels is None else {"num_labels": num_labels}
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(directory, local_files_only=True)
        model = transformers.AutoModelForSequenceClassification.from_pretrained(
            directory, local_files_only=True, **extra
        )
    except (OSError, ValueError, RuntimeError, KeyError, SafetensorError) as exc:
        reason = " ".join(str(exc).split())[:300]
        raise InputError(f"{directory}: cannot load the transformer ({type(exc).__name__}: {reason})") from None
    return tokenizer, model


def directory_sha256(path: Path) -> str:
    """SHA-256 over the names and bytes of every file of a model directory (sorted)."""
    digest = hashlib.sha256()
    for file in sorted(p for p in Path(path).rglob("*") if p.is_file()):
        digest.update(file.relative_to(path).as_posix().encode("utf-8") + b"\x1f")
        digest.update(bytes.fromhex(file_sha256(file)))  # streamed: weights run to gigabytes
    return digest.hexdigest()


def resolve_device(name: str) -> str:
    """``auto`` → ``cuda`` when a GPU is visible, else ``cpu``; ``cuda`` without a GPU is an error."""
    torch, _ = _modules()
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise InputError("config: key 'models.transformer.device': 'cuda' asked but no GPU is visible")
    return name


def load_base(path: Path, seed: int):
    """Tokenizer and a 2-class sequence classifier from a local directory; the new head seeded."""
    torch, _ = _modules()
    path = Path(path)
    if not (path / "config.json").is_file():
        raise InputError(
            f"config: key 'models.transformer.path': {path} holds no config.json "
            "(expected a local transformer directory, as written by save_pretrained)"
        )
    torch.manual_seed(seed)
    return _from_pretrained(path, num_labels=2)


def class_weights(labels: np.ndarray) -> np.ndarray:
    """``n / (2 n_c)`` for classes 0 and 1 (scikit-learn's ``class_weight="balanced"``)."""
    counts = np.bincount(labels, minlength=2).astype(float)
    return len(labels) / (2.0 * counts)


def positive_scores(
    model, tokenizer, texts: Sequence[str], batch_size: int, max_length: int, device: str
) -> np.ndarray:
    """P(label = 1) of each text, in order (softmax of the two logits), in evaluation mode."""
    torch, _ = _modules()
    model.eval()
    scores = []
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(
                list(texts[start : start + batch_size]),
                truncation=True,
                max_length=max_length,
                padding=True,
                return_tensors="pt",
            ).to(device)
            logits = model(**batch).logits
            scores.append(torch.softmax(logits.float(), dim=-1)[:, 1].cpu().numpy())
    return np.concatenate(scores).astype(np.float64) if scores else np.zeros(0)


def fine_tune(
    texts: Sequence[str],
    labels: Sequence[int],
    groups: Sequence[str],
    settings: Mapping[str, Any],
    seed: int,
    threads: int = 1,
) -> tuple[Any, Any, dict[str, Any]]:
    """Fine-tune the base model on ``texts``; the epoch is chosen on held-out threads of the same data."""
    torch, _ = _modules()
    y = np.asarray(labels, int)
    if y.min() == y.max():
        raise InputError(f"training data of transformer: only one class ({y[0]}): nothing to learn")
    torch.set_num_threads(max(1, threads))
    torch.use_deterministic_algorithms(True, warn_only=True)
    device = resolve_device(settings["device"])
    tokenizer, model = load_base(Path(settings["path"]), seed)
    model.to(device)
    folds = max(2, round(1 / settings["validation_fraction"]))
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    fit_rows, held_rows = next(splitter.split(np.zeros(len(y)), y, groups=list(groups)))
    for part, rows in (("training", fit_rows), ("held-out", held_rows)):
        if len(set(y[rows])) < 2:
            raise InputError(
                f"training data of transformer: the {part} threads hold one class only "
                f"({len(rows)} posts); change 'models.transformer.validation_fraction' or "
                "annotate more positive posts"
            )
    fit_texts = [texts[i] for i in fit_rows]
    held_texts = [texts[i] for i in held_rows]
    loss_fn = torch.nn.CrossEntropyLoss(
        weight=torch.tensor(class_weights(y[fit_rows]), dtype=torch.float32, device=device)
    )
    optimiser = torch.optim.AdamW(
        model.parameters(), lr=settings["learning_rate"], weight_decay=settings["weight_decay"]
    )
    batch_size, max_length, epochs = settings["batch_size"], settings["max_length"], settings["epochs"]
    steps = epochs * -(-len(fit_rows) // batch_size)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: max(0.0, 1.0 - step / steps))
    generator = torch.Generator().manual_seed(seed)
    history, best_f1, best_state, best_epoch = [], -1.0, None, 0
    progress = Progress("train transformer", "epochs", total=epochs, every_s=0.0)
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.randperm(len(fit_rows), generator=generator).tolist()
        total = 0.0
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            batch = tokenizer(
                [fit_texts[i] for i in rows], truncation=True, max_length=max_length, padding=True, return_tensors="pt"
            ).to(device)
            target = torch.tensor(y[fit_rows][rows], dtype=torch.long, device=device)
            loss = loss_fn(model(**batch).logits, target)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += float(loss.detach()) * len(rows)
        held = positive_scores(model, tokenizer, held_texts, batch_size, max_length, device) >= 0.5
        f1 = float(f1_score(y[held_rows], held.astype(int), zero_division=0.0))
        history.append({"epoch": epoch, "train_loss": total / len(order), "validation_f1": f1})
        progress.advance(detail=f"loss {total / len(order):.4f}, held-out F1 {f1:.3f}")
        if f1 > best_f1:
            best_f1, best_epoch = f1, epoch
            best_state = copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    record = {
        "kind": "transformer",
        "base_model": str(settings["path"]),
        "base_model_sha256": directory_sha256(Path(settings["path"])),
        "best_epoch": best_epoch,
        "validation_f1": best_f1,
        "history": history,
        "seed": seed,
        "device": device,
        "n_train": int(len(y)),
        "n_positive": int(y.sum()),
        "n_validation": int(len(held_rows)),
        **{
            key: settings[key]
            for key in ("epochs", "batch_size", "max_length", "learning_rate", "weight_decay", "validation_fraction")
        },
    }
    return model, tokenizer, record


def save(model, tokenizer, record: Mapping[str, Any], directory: Path, record_path: Path) -> None:
    """The fine-tuned weights, tokenizer and record in ``directory``; the record again at ``record_path``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    text = json.dumps(dict(record), indent=2, sort_keys=True) + "\n"
    (directory / RECORD_NAME).write_text(text, encoding="utf-8")
    Path(record_path).write_text(text, encoding="utf-8")


class TransformerClassifier:
    """A fine-tuned model with scikit-learn's ``predict`` / ``predict_proba`` interface."""

    def __init__(self, model, tokenizer, record: Mapping[str, Any], device: str) -> None:
        self.model, self.tokenizer, self.record, self.device = model, tokenizer, dict(record), device

    @classmethod
    def load(cls, directory: Path, device: str = "auto") -> TransformerClassifier:
        """The model saved by :func:`save` in ``directory``."""
        directory = Path(directory)
        try:
            record = json.loads((directory / RECORD_NAME).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"{directory}: not a fine-tuned perivigil model ({RECORD_NAME}: {exc})") from None
        device = resolve_device(device)
        tokenizer, model = _from_pretrained(directory, num_labels=None)
        return cls(model.to(device), tokenizer, record, device)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        positive = positive_scores(
            self.model, self.tokenizer, list(texts), self.record["batch_size"], self.record["max_length"], self.device
        )
        return np.stack([1.0 - positive, positive], axis=1)

    @staticmethod
    def labels_from_scores(scores: np.ndarray) -> np.ndarray:
        """The decision: P(label = 1) >= 0.5 (so that one forward pass gives both scores and labels)."""
        return (np.asarray(scores) >= 0.5).astype(int)

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        return self.labels_from_scores(self.predict_proba(texts)[:, 1])
