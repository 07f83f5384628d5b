"""What the embedded memory server's processes are given: an environment built from an
allow-list (never the bot's Slack tokens or database URLs; the Groq key only in LLM mode), its
home's API key, and the limits that keep erased notes from lingering beside its memories."""

from __future__ import annotations

import os
from dataclasses import dataclass

from memory.embedded_postgres import EmbeddedMemoryError
from memory.embedding_model import EmbeddingModelMissing, embedding_env

# What the server's processes may inherit from ours (all else, Slack tokens and database URLs
# included, stays here): where programs and libraries are, the locale and time zone, temporary
# files, proxies and certificates for reaching the LLM, CPU thread settings for onnxruntime.
_INHERITED = frozenset(
    {
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "LANG",
        "LANGUAGE",
        "TZ",
        "TMPDIR",
        "LD_LIBRARY_PATH",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "REQUESTS_CA_BUNDLE",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "no_proxy",
    }
)
_INHERITED_PREFIXES = ("LC_", "OMP_", "ORT_", "MKL_", "OPENBLAS_")
# Operation payloads (the note as sent) are kept this many days after they finish, then
# pruned; an erasure removes its own at once (ProspectMemory.purge_erased).
OPERATION_RETENTION_DAYS = "1"


def _embedding_env() -> dict[str, str]:
    try:
        return embedding_env()
    except EmbeddingModelMissing as exc:
        raise EmbeddedMemoryError(str(exc)) from exc


@dataclass(frozen=True)
class HindsightLlm:
    """The model the embedded server reasons with (fact extraction, observations, reflect)."""

    api_key: str
    model: str
    # Groq's OpenAI-compatible root, e.g. https://api.groq.com/openai/v1; None: Groq's own.
    base_url: str | None = None


def groq_openai_base(groq_base_url: str | None) -> str | None:
    """The OpenAI-compatible root under a Groq SDK base URL (GROQ_BASE_URL)."""
    if not groq_base_url:
        return None
    return groq_base_url.rstrip("/") + "/openai/v1"


# What the server keeps beside memories, bounded so an erasure leaves nothing for long; the
# same values are in compose.yaml. LLM request traces hold the note as sent for extraction:
# not written at all. The audit log (off by default) would keep request bodies forever.
RESIDUE_LIMITS = {
    "HINDSIGHT_API_OPERATION_RETENTION_DAYS": OPERATION_RETENTION_DAYS,
    "HINDSIGHT_API_LLM_TRACE_ENABLED": "false",
    "HINDSIGHT_API_AUDIT_LOG_ENABLED": "false",
}


def inherited_env() -> dict[str, str]:
    """The part of our environment the server's processes get (see _INHERITED)."""
    return {
        key: value
        for key, value in os.environ.items()
        if key in _INHERITED or key.startswith(_INHERITED_PREFIXES)
    }


def hindsight_env(
    database_url: str, port: int, api_key: str, llm: HindsightLlm | None = None
) -> dict[str, str]:
    env = inherited_env()
    env.update(
        {
            "HINDSIGHT_API_DATABASE_URL": database_url,
            # Every request but /health and /version must carry this home's key: any local
            # user can reach 127.0.0.1.
            "HINDSIGHT_API_TENANT_EXTENSION": (
                "hindsight_api.extensions.builtin.tenant:ApiKeyTenantExtension"
            ),
            "HINDSIGHT_API_TENANT_API_KEY": api_key,
            **RESIDUE_LIMITS,
            # The default cross-encoder and embedding models would be fetched from a hub:
            # all-MiniLM-L6-v2 as ONNX from installed packages instead (no torch).
            "HINDSIGHT_API_RERANKER_PROVIDER": "rrf",
            **_embedding_env(),
            "HINDSIGHT_API_HOST": "127.0.0.1",
            "HINDSIGHT_API_PORT": str(port),
            # Fixed: at start a worker takes back only the queued tasks stuck under its own id.
            "HINDSIGHT_API_WORKER_ID": "salesmemory-embedded",
        }
    )
    if llm is None:
        # Chunks mode: a note is stored verbatim; no LLM key is needed to remember.
        env["HINDSIGHT_API_LLM_PROVIDER"] = "none"
        return env
    env.update(
        {
            # Facts, entities and observations are extracted by this model at retain.
            "HINDSIGHT_API_LLM_PROVIDER": "groq",
            "HINDSIGHT_API_LLM_API_KEY": llm.api_key,
            "HINDSIGHT_API_LLM_MODEL": llm.model,
            # A note must not wait minutes on a struggling model: the bot's outbox retries.
            "HINDSIGHT_API_LLM_TIMEOUT": "60",
            "HINDSIGHT_API_LLM_MAX_RETRIES": "2",
            # A failed filing is not retried inside memory: the bot's outbox keeps the note and
            # sends it again (one place retries, and the note stays visible meanwhile).
            "HINDSIGHT_API_WORKER_MAX_RETRIES": "0",
        }
    )
    if llm.base_url:
        env["HINDSIGHT_API_LLM_BASE_URL"] = llm.base_url
    return env
