"""A local HTTP receiver for webhook tests: records each request and answers with the next
status of its plan (then 200); `down()` gives a port where nothing listens."""

import http.server
import socket
import threading
from dataclasses import dataclass, field


@dataclass
class Received:
    method: str
    path: str
    headers: dict
    body: bytes


@dataclass
class Receiver:
    url: str
    requests: list = field(default_factory=list)
    plan: list = field(default_factory=list)  # statuses to answer, in order; then 200
    redirect_to: str | None = None  # answer 307 with this Location (once per request)


def serve(path: str = "/hook"):
    """(Receiver, stop): a server on 127.0.0.1, port chosen by the system."""
    state = Receiver(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            state.requests.append(
                Received(self.command, self.path, {k: v for k, v in self.headers.items()}, body)
            )
            if state.redirect_to:
                self.send_response(307)
                self.send_header("Location", state.redirect_to)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status = state.plan.pop(0) if state.plan else 200
            answer = b"ok" if status < 300 else b"receiver says no"
            self.send_response(status)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        do_POST = _answer
        do_GET = _answer

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}{path}"

    def stop():
        server.shutdown()
        server.server_close()
        thread.join()

    return state, stop


def down_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"
