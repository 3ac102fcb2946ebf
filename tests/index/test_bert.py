"""index.bert against transformers' BertModel on the bundled model: the same vectors."""

from __future__ import annotations

import pytest
import torch

from index.bert import BertEncoder
from index.embeddings import SentenceTransformerEmbedder, bundled_model_path

pytestmark = pytest.mark.integration

TEXTS = ["What is HyperOS?", "a",
         "Xiaomi was founded in 2010 by Lei Jun and a small team of co founders, initially launching MIUI "
         "as an Android based interface before releasing its first smartphone."]


def test_the_plain_bert_gives_transformers_hidden_states() -> None:
    from transformers import AutoModel

    path = bundled_model_path()
    encoder = BertEncoder.load(path)
    assert encoder is not None
    reference = AutoModel.from_pretrained(str(path), local_files_only=True).eval()
    tokenizer = SentenceTransformerEmbedder(path)._tokenizer
    rows = [tokenizer.encode(t, add_special_tokens=True).ids for t in TEXTS]
    width = max(map(len, rows))
    ids = torch.tensor([r + [0] * (width - len(r)) for r in rows])
    mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])
    with torch.inference_mode():
        ours = encoder(ids, mask)
        theirs = reference(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)).last_hidden_state
    real = mask.bool()  # padded positions are masked out of every result
    assert torch.allclose(ours[real], theirs[real], atol=1e-4)


def test_a_folder_without_a_plain_bert_falls_back(tmp_path) -> None:
    assert BertEncoder.load(tmp_path) is None
    (tmp_path / "config.json").write_text('{"model_type": "mpnet", "hidden_act": "gelu"}', encoding="utf-8")
    (tmp_path / "model.safetensors").write_bytes(b"")
    assert BertEncoder.load(tmp_path) is None
