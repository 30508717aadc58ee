"""Real TLS for tests: a CA and certificates made with the openssl CLI, TLS endpoints in front of
the engine (socat, and one that takes a half-close the way dockerd does)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.processes import die_with_us
from tests.support import free_port

_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca(folder: Path, name: str) -> tuple[Path, Path]:
    """A self-signed CA: (certificate, key)."""
    cert, key = folder / f"{name}.pem", folder / f"{name}-key.pem"
    _openssl(
        "req", "-x509", *_KEY, "-keyout", str(key), "-out", str(cert), "-days", "2",
        "-subj", f"/CN={name}",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=folder,
    )  # fmt: skip
    return cert, key


def make_leaf(folder: Path, name: str, ca: tuple[Path, Path], usage: str) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1/localhost signed by ``ca``: (certificate, key)."""
    cert, key, csr = folder / f"{name}.pem", folder / f"{name}-key.pem", folder / f"{name}.csr"
    extensions = folder / f"{name}.ext"
    extensions.write_text(
        f"subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage={usage}\n"
        "basicConstraints=CA:FALSE\n"
    )
    _openssl("req", *_KEY, "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={name}",
             cwd=folder)  # fmt: skip
    _openssl(
        "x509", "-req", "-in", str(csr), "-CA", str(ca[0]), "-CAkey", str(ca[1]),
        "-CAcreateserial", "-out", str(cert), "-days", "2", "-extfile", str(extensions),
        cwd=folder,
    )  # fmt: skip
    return cert, key


@dataclass(frozen=True)
class Pki:
    """One CA that signed a server and a client certificate, and a CA that signed nothing here."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path
    docker_cert_path: Path  # ca.pem, cert.pem, key.pem: the layout DOCKER_CERT_PATH names

    @classmethod
    def make(cls, folder: Path) -> Pki:
        ca = make_ca(folder, "ca")
        server = make_leaf(folder, "server", ca, "serverAuth")
        client = make_leaf(folder, "client", ca, "clientAuth")
        other_ca, _ = make_ca(folder, "other-ca")
        docker = folder / "docker"
        docker.mkdir()
        for source, target in ((ca[0], "ca.pem"), (client[0], "cert.pem"), (client[1], "key.pem")):
            (docker / target).write_bytes(source.read_bytes())
        return cls(ca[0], *server, *client, other_ca, docker)


def wait_for_port(port: int, process: subprocess.Popen[bytes], within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"the process exited with {process.returncode}") from None
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on 127.0.0.1:{port}") from None
            time.sleep(0.05)


@contextmanager
def tls_engine(pki: Pki, engine_socket: str, log: Path) -> Iterator[int]:
    """A TLS endpoint on 127.0.0.1 in front of the engine socket that requires a client
    certificate signed by ``pki.ca``; yields its port."""
    port = free_port()
    listen = (
        f"OPENSSL-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,cert={pki.server_cert},"
        f"key={pki.server_key},cafile={pki.ca},verify=1"
    )
    with log.open("wb") as errors:
        # Its own session: the forked children (one per connection) go with it at the end.
        process = subprocess.Popen(
            ["socat", listen, f"UNIX-CONNECT:{engine_socket}"],
            stderr=errors,
            start_new_session=True,
            preexec_fn=die_with_us(),  # and it stops when pytest is killed
        )
    try:
        wait_for_port(port, process)
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


class _TLSPipe:
    """One client connection: TLS on ``client`` (memory BIOs, so the two pump threads share the
    TLS state under a lock and do their blocking socket I/O outside it), plain on ``engine``."""

    def __init__(self, client: socket.socket, engine: socket.socket, context: ssl.SSLContext):
        self.client, self.engine = client, engine
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = context.wrap_bio(self.incoming, self.outgoing, server_side=True)
        self.lock = threading.Lock()

    def _flush(self) -> None:
        if data := self.outgoing.read():
            self.client.sendall(data)

    def handshake(self) -> None:
        while True:
            with self.lock:
                try:
                    self.tls.do_handshake()
                    self._flush()
                    return
                except ssl.SSLWantReadError:
                    self._flush()
            data = self.client.recv(65536)
            if not data:
                raise ConnectionResetError("the client left during the handshake")
            self.incoming.write(data)

    def client_to_engine(self) -> None:
        # As dockerd's Go TLS: a close_notify, or a FIN at a record boundary, is end-of-file
        # (no alert, no teardown), and the engine's side stays open for the output.
        with contextlib.suppress(OSError):
            data: bytes | None = None  # first, what arrived with the end of the handshake
            while True:
                plain, ended = bytearray(), data == b""
                with self.lock:
                    if data:
                        self.incoming.write(data)
                    try:
                        while chunk := self.tls.read(65536):
                            plain += chunk
                        ended = True  # b"": the client's close_notify
                    except ssl.SSLWantReadError:
                        pass
                    self._flush()
                if plain:
                    self.engine.sendall(plain)
                if ended:
                    self.engine.shutdown(socket.SHUT_WR)
                    return
                data = self.client.recv(65536)

    def engine_to_client(self) -> None:
        with contextlib.suppress(OSError):
            while data := self.engine.recv(65536):
                with self.lock:
                    self.tls.write(data)
                    self._flush()
            with self.lock:  # the engine is done: close_notify, as Go's tls.Conn.Close sends
                with contextlib.suppress(ssl.SSLError):
                    self.tls.unwrap()
                self._flush()

    def serve(self) -> None:
        try:
            self.handshake()
            reader = threading.Thread(target=self.client_to_engine, daemon=True)
            reader.start()
            self.engine_to_client()
            with contextlib.suppress(OSError):
                self.client.shutdown(socket.SHUT_RDWR)  # wakes the reader
            reader.join(timeout=10)
        except (OSError, ssl.SSLError):
            pass
        finally:
            self.client.close()
            self.engine.close()


@contextmanager
def half_closing_tls_engine(pki: Pki, engine_socket: str) -> Iterator[int]:
    """A TLS endpoint in front of the engine socket that behaves as dockerd's own TLS does when
    a client half-closes: socat (OpenSSL 3) ends the whole connection on a FIN without
    close_notify, dockerd (Go's crypto/tls) reads it as end-of-file and keeps sending output.
    Requires a client certificate signed by ``pki.ca``; yields its port."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(pki.server_cert), str(pki.server_key))
    context.load_verify_locations(str(pki.ca))
    context.verify_mode = ssl.CERT_REQUIRED
    listener = socket.create_server(("127.0.0.1", 0))
    port: int = listener.getsockname()[1]

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = listener.accept()
                engine = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    engine.connect(engine_socket)
                except OSError:
                    client.close()
                    engine.close()
                    continue
                pipe = _TLSPipe(client, engine, context)
                threading.Thread(target=pipe.serve, name="tls-pipe", daemon=True).start()

    acceptor = threading.Thread(target=accept, name="tls-endpoint", daemon=True)
    acceptor.start()
    try:
        yield port
    finally:
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)  # wakes accept()
        listener.close()
        acceptor.join(timeout=10)
