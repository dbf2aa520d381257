"""A real HTTP server on 127.0.0.1 for download tests, with the misbehaviours a hostile or broken server shows.

Each route is a function of the request handler; the server records every
path it was asked for (``server.requests``), so a test can check that
nothing was fetched.
"""

import http.server
import socket
import threading
import time
import urllib.parse

# A slow route gives up after this long, so that no server thread outlives a test by much.
SLOW_ROUTE_SECONDS = 20


class _Handler(http.server.BaseHTTPRequestHandler):
    server_version = "LocalTest/1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.requests.append(self.path)
        route = self.server.routes.get(self.path) or self.server.routes.get(urllib.parse.unquote(self.path))
        if route is None:
            self.send_error(404)
            return
        try:
            route(self)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            pass  # the client hung up: that is what the slow routes are for


class LocalServer:
    def __init__(self):
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.routes = {}
        self._server.requests = []
        self._server.handle_error = lambda request, address: None
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def requests(self):
        return self._server.requests

    def url(self, path: str) -> str:
        return self.base + path

    def route(self, path: str, handler) -> str:
        """Serve ``handler(request)`` at ``path`` (as sent: quoted); returns the full URL."""
        self._server.routes[path] = handler
        return self.url(path)

    def close(self):
        self._server.shutdown()
        self._server.server_close()


# --- routes ---------------------------------------------------------------------

def file(data: bytes, content_type: str = "application/octet-stream"):
    def send(request):
        request.send_response(200)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)
    return send


def slow_body(data: bytes, interval: float = 0.1):
    """Headers at once, then one byte every ``interval`` seconds: every read is quick, the whole never ends."""
    def send(request):
        request.send_response(200)
        request.send_header("Content-Type", "application/octet-stream")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        stop = time.monotonic() + SLOW_ROUTE_SECONDS
        for byte in data:
            if time.monotonic() > stop:
                return
            request.wfile.write(bytes([byte]))
            request.wfile.flush()
            time.sleep(interval)
    return send


def slow_headers(interval: float = 0.1):
    """The status line, then endless header bytes, one every ``interval`` seconds."""
    def send(request):
        request.wfile.write(b"HTTP/1.1 200 OK\r\nX-Padding: ")
        stop = time.monotonic() + SLOW_ROUTE_SECONDS
        while time.monotonic() < stop:
            request.wfile.write(b"a")
            request.wfile.flush()
            time.sleep(interval)
    return send


def redirect(location: str, code: int = 302):
    def send(request):
        request.send_response(code)
        request.send_header("Location", location)
        request.send_header("Content-Length", "0")
        request.end_headers()
    return send


def cut_off(data: bytes, declared: int):
    """Declares ``declared`` bytes, sends ``data`` (fewer), then closes the connection."""
    def send(request):
        request.send_response(200)
        request.send_header("Content-Type", "application/octet-stream")
        request.send_header("Content-Length", str(declared))
        request.end_headers()
        request.wfile.write(data)
        request.wfile.flush()
        request.close_connection = True
    return send
