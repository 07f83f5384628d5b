"""The loopback Groq for a whole test session, served from a thread (a session-wide memory
server outlives every test's event loop), answering Hindsight's own requests."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.fake_groq import completion
from tests.support.hindsight_llm import answer_hindsight


class ThreadedGroq:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                owner.requests.append(body)
                kind, value = answer_hindsight(body)
                payload = json.dumps(completion(body, kind, value, len(owner.requests))).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                return  # quiet

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def openai_base(self) -> str:
        """What Hindsight's LLM_BASE_URL is: Groq's OpenAI-compatible root."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/openai/v1"

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def extraction_prompts(self) -> list[str]:
        return [
            next(m["content"] for m in r["messages"] if m["role"] == "user")
            for r in self.requests
            if r.get("messages") and r["messages"][0]["content"].startswith("Extract")
        ]
