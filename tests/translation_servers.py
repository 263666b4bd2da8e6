"""Local translation servers for the tests: no translation model can be downloaded here, so
these speak LibreTranslate's and DeepL's HTTP APIs (their real wire format: paths, JSON fields,
status codes and error bodies) over a real socket on 127.0.0.1, with deterministic fake
translations (a small dictionary, else the text prefixed with "[ko] ").

`serve(handler_class)` runs one in a thread and gives it back with its `url`; set `.api_key`,
`.mode` ("ok", "quota", "broken") and read `.calls` (the /translate requests received).
"""

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LANGUAGES = ("en", "ko", "ja", "sv", "de")
NAMES = {"en": "English", "ko": "Korean", "ja": "Japanese", "sv": "Swedish", "de": "German"}

DICTIONARY = {
    ("en", "ko"): {
        "Hello": "안녕하세요",
        "Your card works again.": "카드가 다시 작동합니다.",
    },
    ("ko", "en"): {
        "카드가 결제되지 않아요. 도와주세요.": "My card does not go through. Please help.",
    },
}


def detect(text: str) -> str:
    """The fake servers' own detection: by script, enough for the tests' texts."""
    if any("\uac00" <= ch <= "\ud7a3" for ch in text):
        return "ko"
    if any("\u3040" <= ch <= "\u30ff" for ch in text):
        return "ja"
    if any(ch in "åäöÅÄÖ" for ch in text):
        return "sv"
    return "en"


def fake_translation(text: str, source: str, target: str) -> str:
    source = detect(text) if source in ("auto", "", None) else source
    return DICTIONARY.get((source, target), {}).get(text, f"[{target}] {text}")


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeTranslate/1"

    def log_message(self, *args):  # quiet
        pass

    def _send(self, status: int, body) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            found = json.loads(raw or b"{}")
        except ValueError:
            return {}
        return found if isinstance(found, dict) else {}


class LibreTranslateHandler(_Handler):
    """POST /translate, GET /languages, POST /detect as LibreTranslate answers them."""

    def do_GET(self):
        if self.path.split("?")[0] != "/languages":
            return self._send(404, {"error": "Not Found"})
        self._send(
            200,
            [
                {"code": c, "name": NAMES[c], "targets": [t for t in LANGUAGES if t != c]}
                for c in LANGUAGES
            ],
        )

    def _refused(self, body: dict):
        state = self.server
        if state.mode == "broken":
            return 500, {"error": "Cannot translate text: model crashed"}
        if state.api_key and body.get("api_key") != state.api_key:
            return 403, {"error": "Invalid API key"}
        if state.mode == "quota":
            return 429, {"error": "Too many request limits violations"}
        return None

    def do_POST(self):
        body = self._body()
        path = self.path.split("?")[0]
        if path == "/detect":
            refused = self._refused(body)
            if refused:
                return self._send(*refused)
            q = body.get("q")
            if not q:
                return self._send(400, {"error": "Invalid request: missing q parameter"})
            return self._send(200, [{"confidence": 90.0, "language": detect(str(q))}])
        if path != "/translate":
            return self._send(404, {"error": "Not Found"})
        self.server.calls.append(body)
        refused = self._refused(body)
        if refused:
            return self._send(*refused)
        q, source, target = body.get("q"), body.get("source"), body.get("target")
        if not q:
            return self._send(400, {"error": "Invalid request: missing q parameter"})
        if not source:
            return self._send(400, {"error": "Invalid request: missing source parameter"})
        if not target:
            return self._send(400, {"error": "Invalid request: missing target parameter"})
        if source != "auto" and source not in LANGUAGES:
            return self._send(400, {"error": f"{source} is not supported"})
        if target not in LANGUAGES:
            return self._send(400, {"error": f"{target} is not supported"})
        texts = q if isinstance(q, list) else [q]
        translated = [fake_translation(str(t), source, target) for t in texts]
        answer = {"translatedText": translated if isinstance(q, list) else translated[0]}
        if source == "auto":
            found = [{"confidence": 90.0, "language": detect(str(t))} for t in texts]
            answer["detectedLanguage"] = found if isinstance(q, list) else found[0]
        self._send(200, answer)


DEEPL_TARGETS = ("EN-US", "EN-GB", "KO", "JA", "SV", "DE")


class DeepLHandler(_Handler):
    """POST /v2/translate and GET /v2/languages as DeepL's API answers them."""

    def _refused(self):
        state = self.server
        if self.headers.get("Authorization") != f"DeepL-Auth-Key {state.api_key}":
            return 403, {"message": "Wrong endpoint. Use https://api.deepl.com"}
        if state.mode == "quota":
            return 456, {"message": "Quota exceeded"}
        if state.mode == "broken":
            return 503, {"message": "Service unavailable"}
        return None

    def do_GET(self):
        if self.path.split("?")[0] != "/v2/languages":
            return self._send(404, {"message": "Not found"})
        refused = self._refused()
        if refused:
            return self._send(*refused)
        self._send(200, [{"language": code, "name": code} for code in DEEPL_TARGETS])

    def do_POST(self):
        if self.path.split("?")[0] != "/v2/translate":
            return self._send(404, {"message": "Not found"})
        body = self._body()
        self.server.calls.append({"body": body, "auth": self.headers.get("Authorization")})
        refused = self._refused()
        if refused:
            return self._send(*refused)
        texts, target = body.get("text"), body.get("target_lang")
        if not isinstance(texts, list) or not texts:
            return self._send(400, {"message": "Parameter 'text' not specified."})
        if target not in DEEPL_TARGETS:
            return self._send(400, {"message": "Value for 'target_lang' not supported."})
        short = target.split("-")[0].lower()
        source = (body.get("source_lang") or "").lower()
        rows = []
        for text in texts:
            detected = source or detect(text)
            rows.append(
                {
                    "detected_source_language": detected.upper(),
                    "text": fake_translation(text, detected, short),
                }
            )
        self._send(200, {"translations": rows})


@contextmanager
def serve(handler_class, api_key: str = ""):
    """A server on 127.0.0.1 (a free port) in a thread, for the block."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
    server.daemon_threads = True
    server.api_key = api_key
    server.mode = "ok"
    server.calls = []
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def closed_port_url() -> str:
    """An address where nothing listens (a provider that is down)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"
