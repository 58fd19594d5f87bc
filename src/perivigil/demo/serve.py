"""Serve a forum snapshot over HTTP on 127.0.0.1: a real server to rehearse a real study's collection.

The crawler then runs exactly as on a live forum (robots.txt, HTTP, delays, the cache).
The snapshot's robots.txt asks for one second between requests; ``crawl_delay`` serves
another value instead (0 for a quick rehearsal), as a site owner would set it.
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
from pathlib import Path

from perivigil.errors import InputError


class _SnapshotHandler(http.server.SimpleHTTPRequestHandler):
    crawl_delay: float | None = None

    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        if self.path == "/robots.txt" and self.crawl_delay is not None:
            robots = Path(self.directory, "robots.txt").read_text(encoding="utf-8")
            robots = re.sub(r"(?mi)^Crawl-delay:.*\n?", "", robots) + f"Crawl-delay: {self.crawl_delay:g}\n"
            body = robots.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def log_message(self, *args: object) -> None:
        """No line per request: the crawler's own log says what it fetched."""


def forum_server(site: Path | str, port: int = 0, crawl_delay: float | None = None) -> http.server.ThreadingHTTPServer:
    """A server of ``site`` on 127.0.0.1:``port`` (0: any free port), started in a background thread."""
    site = Path(site)
    if not (site / "index.html").is_file():
        raise InputError(f"{site}: no index.html: not a forum snapshot")
    handler_class = type("Handler", (_SnapshotHandler,), {"crawl_delay": crawl_delay})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(handler_class, directory=str(site)))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
