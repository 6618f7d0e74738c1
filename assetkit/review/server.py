"""Run the review app on uvicorn at 127.0.0.1 (a free port unless one is given)."""
from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Callable

from ..errors import UsageError
from .app import create_app
from .service import ReviewService


def bind(port: int = 0) -> socket.socket:
    """A listening socket on 127.0.0.1 (``port`` 0: a free one chosen by the OS)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        sock.close()
        raise UsageError(f"--port {port}: cannot listen on 127.0.0.1:{port} ({exc.strerror})") from None
    sock.listen(128)
    return sock


def serve(service: ReviewService, port: int = 0, open_browser: bool = True,
          echo: Callable[[str], None] = print, log: Callable[[str], None] | None = None) -> None:
    """Serve until interrupted; prints the URL (with its token) once listening."""
    import uvicorn

    sock = bind(port)
    host, real_port = sock.getsockname()[:2]
    app = create_app(service, access_log=log or (lambda line: print(line, file=sys.stderr, flush=True)))
    url = f"http://{host}:{real_port}/?t={app.token}"
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", server_header=False)
    server = uvicorn.Server(config)
    echo(f"review of {service.catalog.name}: {len(service.catalog.assets)} assets · reviewer {service.reviewer}")
    echo(f"  open {url}")
    echo("  decisions go to the ledger " + service.store.name + " · Ctrl+C to stop")
    stop = threading.Event()
    # thumbnails made while the browser starts: the first tiles come at once
    threading.Thread(target=app.thumbs.warm, args=(service, stop), daemon=True).start()
    if open_browser:
        import webbrowser

        threading.Timer(0.5, lambda: webbrowser.open(url)).start()
    try:
        server.run(sockets=[sock])
    finally:
        stop.set()
        sock.close()


class BackgroundServer:
    """The app served on a thread (tests, benchmarks): ``with BackgroundServer(service) as srv: srv.url``."""

    def __init__(self, service: ReviewService, port: int = 0, log: Callable[[str], None] | None = None):
        import uvicorn

        self.sock = bind(port)
        host, real_port = self.sock.getsockname()[:2]
        self.app = create_app(service, access_log=log or (lambda line: None))
        self.base = f"http://{host}:{real_port}"
        self.url = f"{self.base}/?t={self.app.token}"
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", access_log=False,
                                                    lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> BackgroundServer:
        import time

        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()
