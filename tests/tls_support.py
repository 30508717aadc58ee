"""Real TLS for tests: a CA and certificates made with the openssl CLI, a socat TLS endpoint."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
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
