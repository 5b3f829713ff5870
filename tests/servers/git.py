"""A git server on loopback HTTPS, for the deployment's git_clone pull step in tests.

Smart HTTP through git's own `git http-backend` (so shallow clones work), behind a self-signed
certificate (Prefect puts an access token into the URL only for https) and, when given a token,
HTTP basic auth that refuses every request without it, as GitHub does for a private repository.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import os
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


class GitServer:
    """Serves the repositories under `root`; `requests` records who asked: "token", "anonymous", "wrong"."""

    def __init__(self, root: Path, token: str | None, tls_dir: Path) -> None:
        self.root = root
        self.token = token
        self.requests: list[str] = []
        self.ca_file = tls_dir / "git-server.pem"
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*_self_signed_certificate(tls_dir, self.ca_file))
        self._http.socket = context.wrap_socket(self._http.socket, server_side=True)
        self._thread = threading.Thread(target=self._http.serve_forever, args=(0.05,), daemon=True)

    def url(self, name: str) -> str:
        """The https URL of the repository `root/name`."""
        return f"https://127.0.0.1:{self._http.server_address[1]}/{name}"

    def start(self) -> GitServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()

    def caller(self, authorization: str | None) -> str:
        """Who a request's Authorization header says it is."""
        if not authorization or not authorization.startswith("Basic "):
            return "anonymous"
        user, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
        return "token" if self.token in (user, password) else "wrong"


def _handler(server: GitServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def _serve(self) -> None:
            caller = server.caller(self.headers.get("Authorization"))
            server.requests.append(caller)
            if server.token is not None and caller != "token":
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="git"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            path, _, query = self.path.partition("?")
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            cgi = {
                "GIT_PROJECT_ROOT": str(server.root),
                "GIT_HTTP_EXPORT_ALL": "1",
                "PATH_INFO": path,
                "QUERY_STRING": query,
                "REQUEST_METHOD": self.command,
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(body)),
                "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
                "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
                "REMOTE_USER": "voc",
                "REMOTE_ADDR": "127.0.0.1",
                "PATH": os.environ.get("PATH", os.defpath),
            }
            done = subprocess.run(["git", "http-backend"], input=body, env=cgi, capture_output=True)
            head, _, payload = done.stdout.partition(b"\r\n\r\n")
            headers = [line.split(": ", 1) for line in head.decode().split("\r\n") if ": " in line]
            status = next((int(value.split()[0]) for name, value in headers if name == "Status"), 200)
            self.send_response(status)
            for name, value in headers:
                if name != "Status":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def _self_signed_certificate(folder: Path, cert_file: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key; git trusts it through GIT_SSL_CAINFO=cert_file."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    loopback = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(loopback, critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_file = folder / "git-server.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file
