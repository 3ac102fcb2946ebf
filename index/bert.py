"""A BERT encoder read straight from a model folder's ``config.json`` and ``model.safetensors``.

Usage::

    encoder = BertEncoder.load(path)          # None when the folder holds no plain BERT
    hidden = encoder(ids, mask)               # last hidden state, like transformers' BertModel

all-MiniLM-L6-v2 is a 6-layer BERT. Importing transformers and building it through
``AutoModel.from_pretrained`` takes about 2.3 s of a 5.8 s cold start on 2 cores; this is the same
arithmetic (post-LayerNorm blocks, exact GELU, absolute positions, token type 0) in a few torch
calls, and ``tests/index/test_bert.py`` checks it gives transformers' vectors.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch


class BertEncoder:
    """The encoder stack of a BERT model (no pooler), for inference."""

    def __init__(self, weights: dict[str, torch.Tensor], config: dict[str, Any]) -> None:
        self.w = weights
        self.layers = int(config["num_hidden_layers"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))

    @property
    def dimension(self) -> int:
        return int(self.w["embeddings.word_embeddings.weight"].shape[1])

    @classmethod
    def load(cls, path: Path) -> BertEncoder | None:
        """The encoder of the model in ``path``, or None when it is not a plain BERT with
        safetensors weights (the caller then uses transformers)."""
        config_file, weights_file = path / "config.json", path / "model.safetensors"
        if not config_file.exists() or not weights_file.exists():
            return None
        config = json.loads(config_file.read_text(encoding="utf-8"))
        if (config.get("model_type") != "bert" or config.get("hidden_act") != "gelu"
                or config.get("position_embedding_type", "absolute") != "absolute"):
            return None
        from safetensors.torch import load_file

        weights = {k.removeprefix("bert."): v for k, v in load_file(str(weights_file)).items()}
        if f"encoder.layer.{int(config['num_hidden_layers']) - 1}.output.dense.weight" not in weights:
            return None
        return cls(weights, config)

    def _norm(self, x: torch.Tensor, name: str) -> torch.Tensor:
        return torch.nn.functional.layer_norm(x, x.shape[-1:], self.w[f"{name}.weight"], self.w[f"{name}.bias"],
                                              self.eps)

    def _dense(self, x: torch.Tensor, name: str) -> torch.Tensor:
        return torch.nn.functional.linear(x, self.w[f"{name}.weight"], self.w[f"{name}.bias"])

    def __call__(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        w = self.w
        batch, width = ids.shape
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][:width].unsqueeze(0)
             + w["embeddings.token_type_embeddings.weight"][0])
        x = self._norm(x, "embeddings.LayerNorm")
        # Padding is masked out of every attention row, as transformers does.
        blocked = (1.0 - mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        size = x.shape[-1] // self.heads
        for i in range(self.layers):
            p = f"encoder.layer.{i}"

            def split(t: torch.Tensor) -> torch.Tensor:
                return t.view(batch, width, self.heads, size).transpose(1, 2)

            q = split(self._dense(x, f"{p}.attention.self.query"))
            k = split(self._dense(x, f"{p}.attention.self.key"))
            v = split(self._dense(x, f"{p}.attention.self.value"))
            context = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=blocked)
            context = context.transpose(1, 2).reshape(batch, width, -1)
            x = self._norm(self._dense(context, f"{p}.attention.output.dense") + x, f"{p}.attention.output.LayerNorm")
            inner = torch.nn.functional.gelu(self._dense(x, f"{p}.intermediate.dense"))
            x = self._norm(self._dense(inner, f"{p}.output.dense") + x, f"{p}.output.LayerNorm")
        return x
