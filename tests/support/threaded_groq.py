"""The loopback Groq for a whole test session, served from a thread (a session-wide memory
server outlives every test's event loop), answering Hindsight's own requests."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.fake_groq import completion
from tests.support.hindsight_llm import answer_hindsight


class ThreadedGroq:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        # Cleared: extraction requests wait (a slow model); set again to let them answer.
        self.extraction_gate = threading.Event()
        self.extraction_gate.set()
        self.extractions_waiting = 0
        # Note text -> how many more extraction requests for it fail with a 500.
        self.fail_extraction: dict[str, int] = {}
        # Set: reflect's answers add a person and ids no memory holds.
        self.reflect_lies = False
        # Set: reflect's structured step gives nothing usable (the bot then falls back).
        self.reflect_unusable = False
        # Seconds each step of reflect's loop takes (a slow model).
        self.reflect_delay = 0.0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                owner.requests.append(body)
                if owner.is_extraction(body):
                    owner.extractions_waiting += 1
                    owner.extraction_gate.wait(120)
                    owner.extractions_waiting -= 1
                    if owner.should_fail(body):
                        self.send_error(500, "model overloaded")
                        return
                if body.get("tools") and owner.reflect_delay:
                    time.sleep(owner.reflect_delay)
                kind, value = answer_hindsight(body, owner.reflect_lies, owner.reflect_unusable)
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

    @staticmethod
    def is_extraction(body: dict[str, Any]) -> bool:
        messages = body.get("messages") or []
        return bool(messages) and str(messages[0].get("content", "")).startswith("Extract")

    def should_fail(self, body: dict[str, Any]) -> bool:
        prompt = json.dumps(body["messages"])
        for text, left in self.fail_extraction.items():
            if left > 0 and text in prompt:
                self.fail_extraction[text] = left - 1
                return True
        return False

    def extraction_prompts(self) -> list[str]:
        return [
            next(m["content"] for m in r["messages"] if m["role"] == "user")
            for r in self.requests
            if r.get("messages") and r["messages"][0]["content"].startswith("Extract")
        ]
