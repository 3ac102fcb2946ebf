"""One typed settings object for the whole product, read from ``ASSISTANT_*`` variables.

Usage::

    settings = Settings()                      # environment + defaults
    settings = Settings(data_dir=tmp_path)     # explicit, e.g. in tests
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_DIR = Path(__file__).resolve().parent.parent
# A checkout (or `pip install -e .`) reads prompts/ and documents/ beside the packages; an
# installed wheel reads the copies pyproject's data-files put under share/doc-assistant, found
# through the installed files' record (a venv, `pip install --user`, /usr/local all differ).
IN_CHECKOUT = (PROJECT_DIR / "pyproject.toml").is_file() and (PROJECT_DIR / "prompts").is_dir()


def _installed_resources() -> Path:
    from importlib import metadata

    marker = "share/doc-assistant/prompts/abstain.txt"
    try:
        files = metadata.files("doc-assistant") or []
    except metadata.PackageNotFoundError:
        files = []
    found = next((Path(str(f.locate())).resolve() for f in files if f.as_posix().endswith(marker)), None)
    return found.parent.parent if found else Path(sys.prefix) / "share" / "doc-assistant"


RESOURCE_DIR = PROJECT_DIR if IN_CHECKOUT else _installed_resources()
BUNDLED_DOCUMENT = RESOURCE_DIR / "documents" / "xiaomi-business-model.txt"
PROMPTS_DIR = RESOURCE_DIR / "prompts"
QUERY_LEXICON = Path(__file__).resolve().parent / "data" / "register.tsv"


# What each listed value of a list setting must look like, and the message when it does not.
_LIST_FORMATS = {
    "allowed_origins": (r"\*|https?://[^/\s?#]+/?", "no origin: give scheme://host[:port] (https://wiki.corp), or *"),
    "allowed_hosts": (r"\*|(\*\.)?[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]",
                      "no host name: give a name without scheme or port (assistant.corp, *.intranet.corp), or *"),
}


def _split_list(value: object) -> object:
    """Accept a comma-separated string for list settings (``a.txt,b.md``)."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Every knob of the assistant. Environment variables are ``ASSISTANT_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", extra="ignore")

    # --- documents and index -------------------------------------------------
    data_dir: Path = Field(
        default_factory=lambda: (PROJECT_DIR if IN_CHECKOUT else Path.cwd()) / ".data",
        description="Folder holding the Chroma index, the BM25 index and feedback (git-ignored); default: "
                    "the checkout's .data (an installed wheel: .data in the working folder).",
    )
    documents: Annotated[list[Path], NoDecode] = Field(
        default_factory=lambda: [BUNDLED_DOCUMENT],
        description="Document(s) indexed by `assistant index` with no arguments; comma-separated.",
    )
    collection: str = Field("sections", description="Name of the Chroma collection (3-50 letters, digits, . _ -).")
    chroma_url: str | None = Field(
        None,
        description="URL of a Chroma server (http://host:port); unset = embedded store under data_dir.",
    )
    embedding_model: str | None = Field(
        None,
        description="Path of a sentence-transformers model; unset = the bundled all-MiniLM-L6-v2.",
    )
    chunk_tokens: int = Field(
        200, ge=32, le=256, description="Largest chunk in word pieces (MiniLM reads at most 256)."
    )

    # --- retrieval and answering ---------------------------------------------
    top_k: int = Field(4, ge=1, le=20, description="Sections handed to the answerer.")
    max_answer_sentences: int = Field(
        3, ge=1, le=8,
        description="Most sentences chosen for an extractive answer (one that points back brings the one before it; "
                    "a full answer may say one more of its best section).",
    )
    abstain_threshold: float = Field(
        0.30, ge=0.0, le=1.0, allow_inf_nan=False,
        description="Lowest evidence score (0-1) at which the assistant answers instead of abstaining.",
    )
    max_question_chars: int = Field(2000, ge=1, description="Longest question accepted.")
    query_lexicon: Path | None = Field(
        QUERY_LEXICON,
        description="TSV of everyday words and the formal words documents use for them, added to "
                    "keyword search; `off` = none.",
    )

    # --- generative backends ---------------------------------------------------
    llm: Literal["extractive", "llamacpp", "openai"] = Field(
        "extractive", description="Answerer: extractive (no LLM), llamacpp (GGUF file) or openai."
    )
    llm_model: str | None = Field(
        None, description="GGUF path (llamacpp) or model name (openai)."
    )
    llm_base_url: str | None = Field(None, description="Base URL of an OpenAI-compatible server.")
    llm_api_key: str | None = Field(None, description="API key for the OpenAI-compatible server.")
    llm_max_tokens: int = Field(256, ge=16, description="Most tokens an LLM answer may have.")
    llm_context: int = Field(2048, ge=512, description="Context window (tokens) of the LLM.")
    llm_timeout: float = Field(60.0, gt=0, description="Seconds to wait for an LLM server.")
    llm_condense: bool = Field(
        True, description="With an LLM backend, condense follow-ups with prompts/condense.txt."
    )

    # --- serving ---------------------------------------------------------------
    host: str = Field("127.0.0.1", description="Address `assistant serve` binds to.")
    port: int = Field(7860, ge=1, le=65535, description="Port `assistant serve` listens on.")
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Extra origins allowed to call /api/* and frame /widget; comma-separated.",
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Host names the server answers to (`*.corp` for subdomains); comma-separated. Unset: "
                    "localhost names only when bound to 127.0.0.1, any when bound to another address.",
    )
    api_key: str | None = Field(
        None, description="When set, /api/* requires `Authorization: Bearer <key>`."
    )
    rate_limit: int = Field(
        60, ge=0, description="Requests per minute per client on /api/* (0 = unlimited)."
    )
    max_concurrency: int = Field(
        8, ge=1, description="Answers computed at once; more waiting requests get 503."
    )

    @field_validator("collection")
    @classmethod
    def _collection_name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{1,48}[A-Za-z0-9]", value):
            raise ValueError(f"{value!r} is no Chroma collection name: 3-50 letters, digits, '.', '_' or '-', "
                             "starting and ending with a letter or digit")
        return value

    @field_validator("data_dir", mode="before")
    @classmethod
    def _data_dir_given(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            raise ValueError("is empty: give a folder, or unset it for the default .data")
        return value

    @field_validator("query_lexicon", mode="before")
    @classmethod
    def _lexicon_off(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in ("", "off", "none"):
            return None
        return value

    @field_validator("query_lexicon")
    @classmethod
    def _lexicon_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"the query lexicon {value} is not a file (set it to `off` for none)")
        return value

    @field_validator("documents", "allowed_origins", "allowed_hosts", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return _split_list(value)

    @field_validator("api_key")
    @classmethod
    def _key_given(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("is empty, which would turn the key check off: unset it for no key, or give the key")
        # An Authorization header carries visible ASCII: a key with a space ("abc " pasted from a
        # file) or a letter like "é" could never be sent, and every request would get 401.
        if value is not None and not re.fullmatch(r"[!-~]+", value):
            raise ValueError("must be printable ASCII without spaces (letters, digits, punctuation), "
                             "as an Authorization header carries it")
        return value

    @field_validator("chroma_url")
    @classmethod
    def _chroma_url(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"https?://[^/\s?#]+/?", value.strip(), re.I):
            raise ValueError(f"{value!r} is no server URL: give http://host:port, or unset it for the embedded store")
        return value

    @field_validator("allowed_origins", "allowed_hosts")
    @classmethod
    def _well_formed(cls, value: list[str], info: ValidationInfo) -> list[str]:
        pattern, expected = _LIST_FORMATS[str(info.field_name)]
        for item in value:
            if not re.fullmatch(pattern, item, re.I):
                raise ValueError(f"{item!r} is {expected}")
        return value

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"
