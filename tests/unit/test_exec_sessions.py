"""Interactive sessions and job input, the pure parts: who may attach, frames, paths, archives."""

from __future__ import annotations

import io
import tarfile

import pytest
from pydantic import ValidationError

from app.engine.frames import Stream
from app.engine.sockets import OutputQueue
from app.main import create_app
from app.problems import Conflict, NotFound
from app.schemas.containers import RunSpec
from app.security.middleware import match_route, route_table
from app.services.exec_sessions import SessionBook, status_frame, terminal_size
from app.services.job_input import file_owner, files_archive, tar_of


def test_only_the_creating_key_claims_a_session_and_only_once() -> None:
    book = SessionBook(window=60)
    book.add("e1", "c1", "key-a", tty=True)
    with pytest.raises(NotFound):
        book.claim("e1", "key-b")
    found = book.claim("e1", "key-a")
    assert (found.container_id, found.tty) == ("c1", True)
    with pytest.raises(Conflict):
        book.claim("e1", "key-a")
    with pytest.raises(NotFound):
        book.claim("unknown", "key-a")


def test_an_unclaimed_session_expires() -> None:
    book = SessionBook(window=0)
    book.add("e1", "c1", "key-a", tty=False)
    with pytest.raises(NotFound):
        book.claim("e1", "key-a")


@pytest.mark.parametrize(
    ("payload", "size"),
    [
        (b'{"width": 80, "height": 24}', (80, 24)),
        (b'{"width": 0, "height": 24}', None),
        (b'{"width": "80", "height": 24}', None),
        (b'{"width": true, "height": 24}', None),
        (b'{"width": 80}', None),
        (b"not json", None),
        (b"[1, 2]", None),
    ],
)
def test_resize_frames_are_checked(payload: bytes, size: tuple[int, int] | None) -> None:
    assert terminal_size(payload) == size


def test_the_status_frame_is_channel_3_json() -> None:
    assert status_frame(7) == b'\x03{"exit_code": 7}'


def test_files_become_one_archive_owned_by_a_numeric_user() -> None:
    spec = RunSpec(
        image="x",
        user="1000:1001",
        files={"/a/b.sh": {"text": "#!/bin/sh\n", "mode": "0755"}, "/c": {"base64": "AAEC"}},
    )
    archive = files_archive(spec)
    assert archive is not None
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert set(members) == {"a/b.sh", "c"}
        assert (members["a/b.sh"].mode, members["a/b.sh"].uid, members["a/b.sh"].gid) == (
            0o755,
            1000,
            1001,
        )
        assert members["c"].mode == 0o644
        extracted = tar.extractfile("c")
        assert extracted is not None
        assert extracted.read() == b"\x00\x01\x02"


@pytest.mark.parametrize(
    ("user", "owner"), [(None, (0, 0)), ("1000", (1000, 1000)), ("app", (0, 0))]
)
def test_file_owner(user: str | None, owner: tuple[int, int]) -> None:
    assert file_owner(user) == owner


@pytest.mark.parametrize(
    "path", ["relative", "/a/../b", "/a/./b", "//a", "/a/", "/a\x00b", "/" + "x" * 2000]
)
def test_file_paths_are_absolute_and_plain(path: str) -> None:
    with pytest.raises(ValidationError):
        RunSpec(image="x", files={path: "x"})


def test_an_empty_archive_is_a_valid_tar() -> None:
    assert tarfile.open(fileobj=io.BytesIO(tar_of([]))).getmembers() == []


def test_the_security_gate_sees_the_websocket_route_as_a_get() -> None:
    table = route_table(create_app().routes)
    found = match_route(table, "GET", "/v1/execs/abc/attach")
    assert (found.template, found.name) == ("/v1/execs/{exec_id}/attach", "attach_exec")


class _Protocol:
    """The two flow-control calls the output queue makes on aiohttp's protocol."""

    def __init__(self) -> None:
        self.paused = False

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False


async def test_unread_output_pauses_the_engine_socket_until_it_is_drained() -> None:
    protocol = _Protocol()
    queue = OutputQueue(protocol, tty=True)
    for _ in range(3):
        queue.feed_data(b"x" * 64 * 1024)
    assert protocol.paused  # 192 KiB unread: the engine socket is no longer read
    assert await queue.get() == (Stream.STDOUT, b"x" * 64 * 1024)
    assert protocol.paused
    await queue.get()
    assert not protocol.paused  # below half the limit again
    queue.feed_eof()
    assert await queue.get() == (Stream.STDOUT, b"x" * 64 * 1024)
    assert await queue.get() is None


async def test_multiplexed_output_is_split_into_streams_across_chunks() -> None:
    queue = OutputQueue(_Protocol(), tty=False)
    frames = b"\x01\x00\x00\x00\x00\x00\x00\x03out" + b"\x02\x00\x00\x00\x00\x00\x00\x03err"
    queue.feed_data(frames[:5])
    queue.feed_data(frames[5:14])
    queue.feed_data(frames[14:])
    queue.feed_eof()
    assert await queue.get() == (Stream.STDOUT, b"out")
    assert await queue.get() == (Stream.STDERR, b"err")
    assert await queue.get() is None
