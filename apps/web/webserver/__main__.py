"""`python -m webserver`: serve $STATIC_DIR on $HOST:$PORT (default 0.0.0.0:8080).

Stdlib only (http.server), runs as any uid on a read-only root filesystem:
  GET /health   200 {"status":"ok"}
  GET /...      files from STATIC_DIR; "/" and directories serve index.html,
                no directory listings, precompressed "<file>.gz" sent when the
                client accepts gzip, security and cache headers on every answer.
SIGTERM/SIGINT stop the server gracefully (in-flight requests finish).
"""

from __future__ import annotations

import http.server
import json
import os
import signal
import sys
import threading

STATIC_DIR = os.environ.get("STATIC_DIR", os.path.join(os.path.dirname(os.path.dirname(__file__)), "static"))

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'",
}


class Handler(http.server.SimpleHTTPRequestHandler):
    server_version = "leanstack-web"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=STATIC_DIR, **kwargs)

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, fmt: str, *args) -> None:
        if os.environ.get("ACCESS_LOG", "1") == "1":
            sys.stdout.write("%s - %s\n" % (self.address_string(), fmt % args))

    def _json(self, code: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        if self.path.split("?", 1)[0] in ("/health", "/ready"):
            return self._json(200, {"status": "ok"})
        return super().do_GET()

    def do_HEAD(self) -> None:  # noqa: N802
        if self.path.split("?", 1)[0] in ("/health", "/ready"):
            return self._json(200, {"status": "ok"})
        return super().do_HEAD()

    def list_directory(self, path):  # no listings
        self.send_error(404, "Not Found")
        return None

    def end_headers(self) -> None:
        for k, v in SECURITY_HEADERS.items():
            self.send_header(k, v)
        cc = getattr(self, "_cache_control_value", None)
        if cc:
            self.send_header("Cache-Control", cc)
            self._cache_control_value = None
        super().end_headers()

    def send_error(self, code, message=None, explain=None):
        page = os.path.join(STATIC_DIR, f"{code}.html")
        self._cache_control_value = None
        if code == 404 and os.path.isfile(page):
            with open(page, "rb") as f:
                body = f.read()
            self.send_response(code, message)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            return
        super().send_error(code, message, explain)

    def send_head(self):
        path = self.translate_path(self.path)
        if os.path.isdir(path):
            if not self.path.split("?", 1)[0].endswith("/"):
                return super().send_head()  # redirect to the slash form
            path = os.path.join(path, "index.html")
        if os.path.isfile(path):
            self._cache_control_value = self._cache_control(path)
        gz = path + ".gz"
        if "gzip" in self.headers.get("Accept-Encoding", "") and os.path.isfile(gz) and os.path.isfile(path):
            try:
                f = open(gz, "rb")
            except OSError:
                return super().send_head()
            st = os.fstat(f.fileno())
            self.send_response(200)
            self.send_header("Content-Type", self.guess_type(path))
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Vary", "Accept-Encoding")
            self.send_header("Content-Length", str(st.st_size))
            self.send_header("Last-Modified", self.date_time_string(int(st.st_mtime)))
            self.end_headers()
            return f
        return super().send_head()

    @staticmethod
    def _cache_control(path: str) -> str:
        # HTML revalidates; other assets may be cached for an hour.
        return "no-cache" if path.endswith(".html") else "public, max-age=3600"


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main() -> int:
    host = os.environ.get("HOST", "0.0.0.0")
    port = int(os.environ.get("PORT", "8080"))
    if not os.path.isfile(os.path.join(STATIC_DIR, "index.html")):
        print(f"no index.html in {STATIC_DIR}", file=sys.stderr)
        return 1
    httpd = Server((host, port), Handler)

    def stop(signum, _frame):
        print(f"signal {signal.Signals(signum).name}: shutting down", flush=True)
        # shutdown() blocks until serve_forever returns: call it off the main thread.
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"serving {STATIC_DIR} on http://{host}:{port}", flush=True)
    httpd.serve_forever(poll_interval=0.2)
    httpd.server_close()
    print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
