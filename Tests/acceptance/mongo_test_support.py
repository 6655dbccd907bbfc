"""The MongoDB test server under test (started per module, port 0, own journal), its fixtures and
raw wire-protocol helpers, for test_mongo_test_server*.py."""
import contextlib
import pathlib
import re
import socket
import struct
import subprocess
import sys

import bson
import pymongo
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SERVER = ROOT / "Tests" / "mongo-test-server" / "mongo_test_server.py"


class Server:
    """A mongo_test_server.py subprocess."""

    def __init__(self, journal=None, port=0, replica_set=None):
        self.journal = journal
        self.replica_set = replica_set
        self.process = None
        self.port = port
        self.start()

    def start(self):
        args = [sys.executable, str(SERVER), "--port", str(self.port)]
        if self.journal:
            args += ["--journal", str(self.journal)]
        if self.replica_set:
            args += ["--replica-set", self.replica_set]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=sys.stderr, text=True)
        line = self.process.stdout.readline()
        match = re.match(r"listening on 127\.0\.0\.1:(\d+)$", line.strip())
        assert match, "unexpected first line %r" % line
        self.port = int(match.group(1))

    def crash(self):
        self.process.kill()
        self.process.wait(10)
        self.process.stdout.close()

    def restart(self):
        self.crash()
        self.start()

    def stop(self):
        if self.process.poll() is None:
            self.crash()

    @property
    def url(self):
        return "mongodb://127.0.0.1:%d" % self.port

    def client(self, **kw):
        kw.setdefault("serverSelectionTimeoutMS", 5000)
        return pymongo.MongoClient(self.url, **kw)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(journal=tmp_path_factory.mktemp("mongo") / "journal")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def client(server):
    c = server.client()
    yield c
    c.close()


@pytest.fixture
def db(client, request):
    name = "t_" + re.sub(r"\W", "_", request.node.name)[:50]
    client.drop_database(name)
    return client[name]


# Raw wire-protocol helpers.

def _recv_message(sock):
    data = b""
    while len(data) < 16 or len(data) < struct.unpack_from("<i", data)[0]:
        chunk = sock.recv(1 << 16)
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def op_msg(sock, body, sequences=(), flags=0, request_id=7, expect_reply=True):
    payload = struct.pack("<I", flags) + b"\0" + bson.encode(body)
    for ident, docs in sequences:
        seq = ident.encode() + b"\0" + b"".join(bson.encode(d) for d in docs)
        payload += b"\x01" + struct.pack("<i", len(seq) + 4) + seq
    if flags & 1:
        payload += b"\0\0\0\0"      # a CRC-32C the server ignores
    sock.sendall(struct.pack("<iiii", 16 + len(payload), request_id, 0, 2013) + payload)
    if not expect_reply:
        return None
    data = _recv_message(sock)
    length, _, response_to, opcode = struct.unpack_from("<iiii", data)
    assert (opcode, response_to) == (2013, request_id)
    assert struct.unpack_from("<I", data, 16)[0] == 0 and data[20] == 0
    return bson.decode(data[21:length])


def op_query(sock, ns, query, request_id=9):
    payload = struct.pack("<i", 0) + ns.encode() + b"\0" + struct.pack("<ii", 0, -1) + bson.encode(query)
    sock.sendall(struct.pack("<iiii", 16 + len(payload), request_id, 0, 2004) + payload)
    data = _recv_message(sock)
    length, _, response_to, opcode = struct.unpack_from("<iiii", data)
    assert (opcode, response_to) == (1, request_id)
    flags, cursor_id, starting_from, returned = struct.unpack_from("<iqii", data, 16)
    assert (cursor_id, starting_from, returned) == (0, 0, 1)
    return flags, bson.decode(data[36:length])


@contextlib.contextmanager
def raw(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        yield s


# The protocol and the handshake.
