"""The MongoDB wire-protocol test server (Tests/mongo-test-server/mongo_test_server.py), driven with
pymongo and raw sockets against servers this module starts itself (port 0, own journal)."""
import contextlib
import datetime
import os
import pathlib
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading

import bson
import pymongo
import pytest
from bson import ObjectId
from bson.int64 import Int64
from bson.raw_bson import RawBSONDocument
from pymongo.errors import DuplicateKeyError, OperationFailure

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

def test_op_query_handshake_and_hello(server):
    with raw(server) as s:
        flags, reply = op_query(s, "admin.$cmd", {"isMaster": 1, "helloOk": True, "client": {"driver": {"name": "t"}}})
        assert flags == 0 and reply["ok"] == 1 and reply["ismaster"] is True and reply["helloOk"] is True
        assert reply["maxWireVersion"] == 13 and reply["minWireVersion"] == 0
        assert reply["maxBsonObjectSize"] == 16777216 and reply["maxMessageSizeBytes"] == 48000000
        assert reply["maxWriteBatchSize"] == 100000 and isinstance(reply["localTime"], datetime.datetime)
        assert "logicalSessionTimeoutMinutes" not in reply and "setName" not in reply
        # Any command over OP_QUERY on DB.$cmd, also wrapped as {$query: ...}.
        _, reply = op_query(s, "admin.$cmd", {"$query": {"ping": 1}, "$readPreference": {"mode": "primary"}})
        assert reply == {"ok": 1.0}
        flags, reply = op_query(s, "db.coll", {"a": 1})
        assert flags & 2 and "$err" in reply
        reply = op_msg(s, {"hello": 1, "$db": "admin"})
        assert reply["isWritablePrimary"] is True and reply["connectionId"] >= 1


def test_op_msg_sections_checksum_and_more_to_come(server, client):
    with raw(server) as s:
        body = {"insert": "seq", "$db": "t_raw", "ordered": True}
        reply = op_msg(s, body, [("documents", [{"_id": i} for i in range(3)])], flags=1)
        assert reply == {"n": 3, "ok": 1.0}
        # moreToCome: no reply; the next command's reply answers that next command.
        op_msg(s, {"insert": "seq", "$db": "t_raw"}, [("documents", [{"_id": 9}])], flags=2, expect_reply=False)
        reply = op_msg(s, {"count": "seq", "$db": "t_raw"}, request_id=11)
        assert reply["n"] == 4
    assert sorted(d["_id"] for d in client.t_raw.seq.find()) == [0, 1, 2, 9]
    client.drop_database("t_raw")


def test_errors_never_break_the_connection(server, client):
    with raw(server) as s:
        reply = op_msg(s, {"frobnicate": 1, "$db": "admin"})
        assert reply["ok"] == 0 and reply["code"] == 59 and reply["codeName"] == "CommandNotFound"
        reply = op_msg(s, {"find": "c", "filter": 5, "$db": "t_err"})
        assert reply["ok"] == 0 and isinstance(reply["code"], int) and reply["errmsg"]
        reply = op_msg(s, {"find": "c", "filter": {"a": {"$bogus": 1}}, "$db": "t_err"})
        assert reply["ok"] == 0 and reply["code"] == 2
        reply = op_msg(s, {"getMore": Int64(12345), "collection": "c", "$db": "t_err"})
        assert reply["code"] == 43 and reply["codeName"] == "CursorNotFound"
        reply = op_msg(s, {"insert": "c", "documents": "nope", "$db": "t_err"})
        assert reply["ok"] == 0
        # A malformed OP_MSG gets an error reply, and the connection goes on.
        bad = struct.pack("<I", 0) + b"\0" + struct.pack("<i", 20) + b"\x10x\0"
        s.sendall(struct.pack("<iiii", 16 + len(bad), 3, 0, 2013) + bad)
        assert bson.decode(_recv_message(s)[21:])["ok"] == 0
        assert op_msg(s, {"ping": 1, "$db": "admin"}) == {"ok": 1.0}
    # Garbage on another connection does not take the server down.
    with raw(server) as s:
        s.sendall(b"\xff" * 64)
    assert client.admin.command("ping")["ok"] == 1
    with pytest.raises(OperationFailure) as e:
        client.t_err.command("frobnicate")
    assert e.value.code == 59


def test_admin_commands(client, db):
    assert client.server_info()["version"] == "5.0.0-mongomock"
    assert client.admin.command("buildinfo")["versionArray"][0] == 5
    assert client.admin.command("getParameter", 1, featureCompatibilityVersion=1)["ok"] == 1
    assert client.admin.command("endSessions", [])["ok"] == 1
    db.create_collection("made")
    with pytest.raises(OperationFailure) as e:
        db.command("create", "made")
    assert e.value.code == 48
    db.other.insert_one({})
    assert sorted(db.list_collection_names()) == ["made", "other"]
    assert db.name in client.list_database_names()
    assert db.command("drop", "made")["ok"] == 1
    with pytest.raises(OperationFailure) as e:
        db.command("drop", "made")
    assert e.value.code == 26
    client.drop_database(db.name)
    assert db.name not in client.list_database_names()


# CRUD.

def test_insert_find_count_distinct(db):
    c = db.items
    c.insert_many([{"_id": i, "g": i % 3, "name": "n%02d" % i, "tags": ["x", "y%d" % (i % 2)]} for i in range(20)])
    assert c.count_documents({}) == 20 and c.estimated_document_count() == 20
    assert c.count_documents({"g": 1}) == 7
    assert db.command("count", "items", query={"g": 1}, skip=2, limit=3)["n"] == 3
    docs = list(c.find({"g": {"$in": [0, 2]}}, {"name": 1, "_id": 0}).sort([("g", -1), ("name", 1)]).skip(1).limit(4))
    assert docs == [{"name": "n05"}, {"name": "n08"}, {"name": "n11"}, {"name": "n14"}]
    assert list(c.find({"tags": "y1"}, {"_id": 1}).limit(2)) == [{"_id": 1}, {"_id": 3}]
    assert sorted(c.distinct("g")) == [0, 1, 2] and sorted(c.distinct("tags", {"g": 0})) == ["x", "y0", "y1"]
    assert c.find_one({"_id": 7})["name"] == "n07"
    assert c.find_one({"_id": 99}) is None


def test_update_and_delete(db):
    c = db.u
    c.insert_many([{"_id": i, "n": i, "kind": "a" if i < 5 else "b"} for i in range(10)])
    r = c.update_many({"kind": "a"}, {"$inc": {"n": 100}, "$set": {"seen": True}})
    assert (r.matched_count, r.modified_count) == (5, 5)
    r = c.replace_one({"_id": 7}, {"whole": "new"})
    assert (r.matched_count, r.modified_count) == (1, 1) and c.find_one({"_id": 7}) == {"_id": 7, "whole": "new"}
    r = c.update_one({"_id": "up"}, {"$set": {"x": 1}, "$setOnInsert": {"created": 1}}, upsert=True)
    assert r.upserted_id == "up"
    r = c.update_one({"_id": "up"}, {"$set": {"x": 2}, "$setOnInsert": {"created": 2}}, upsert=True)
    assert r.upserted_id is None and c.find_one({"_id": "up"}) == {"_id": "up", "x": 2, "created": 1}
    r = c.update_one({"name": "fresh"}, {"$set": {"v": 1}}, upsert=True)
    assert isinstance(r.upserted_id, ObjectId) and c.find_one({"name": "fresh"})["v"] == 1
    raw_reply = db.command("update", "u", updates=[
        {"q": {"_id": 0}, "u": {"$set": {"z": 1}}},
        {"q": {"_id": "nope"}, "u": {"$set": {"z": 1}}, "upsert": True},
        {"q": {"kind": "b"}, "u": {"$set": {"z": 2}}, "multi": True}])
    assert raw_reply["n"] == 1 + 1 + 4 and raw_reply["nModified"] == 1 + 4
    assert raw_reply["upserted"] == [{"index": 1, "_id": "nope"}]
    assert c.delete_one({"kind": "b"}).deleted_count == 1
    assert c.delete_many({"kind": "b"}).deleted_count == 3
    assert c.count_documents({"kind": "b"}) == 0
    left = c.count_documents({})
    assert db.command("delete", "u", deletes=[{"q": {"_id": {"$in": [0, 1]}}, "limit": 1}])["n"] == 1
    assert db.command("delete", "u", deletes=[{"q": {}, "limit": 0}])["n"] == left - 1
    assert c.count_documents({}) == 0


def test_find_and_modify(db):
    c = db.fam
    c.insert_many([{"_id": i, "rank": i, "v": 0} for i in range(5)])
    doc = c.find_one_and_update({}, {"$inc": {"v": 1}}, sort=[("rank", -1)], return_document=True)
    assert doc == {"_id": 4, "rank": 4, "v": 1}
    doc = c.find_one_and_update({"_id": 3}, {"$inc": {"v": 5}}, projection={"v": 1, "_id": 0})
    assert doc == {"v": 0}
    doc = c.find_one_and_replace({"_id": 2}, {"rank": 20}, return_document=True)
    assert doc == {"_id": 2, "rank": 20}
    assert c.find_one_and_delete({"_id": 1}) == {"_id": 1, "rank": 1, "v": 0}
    assert c.find_one_and_delete({"_id": 1}) is None
    reply = db.command("findAndModify", "fam", query={"_id": "s"}, update={"$inc": {"n": 1}}, upsert=True, new=True)
    assert reply["value"] == {"_id": "s", "n": 1}
    assert reply["lastErrorObject"] == {"n": 1, "updatedExisting": False, "upserted": "s"}
    reply = db.command("findandmodify", "fam", query={"_id": "s"}, update={"$inc": {"n": 1}}, new=True)
    assert reply["value"]["n"] == 2 and reply["lastErrorObject"] == {"n": 1, "updatedExisting": True}
    reply = db.command("findAndModify", "fam", query={"_id": "none"}, update={"$inc": {"n": 1}})
    assert reply["value"] is None and reply["lastErrorObject"]["n"] == 0
    reply = db.command("findAndModify", "fam", query={"_id": "t"}, update={"$inc": {"n": 1}}, upsert=True)
    assert reply["value"] is None and reply["lastErrorObject"]["upserted"] == "t"


def test_cursors_and_get_more(server, db):
    c = db.cur
    c.insert_many([{"_id": i, "pad": "x" * 100} for i in range(350)])
    first = db.command("find", "cur", sort={"_id": 1})
    assert len(first["cursor"]["firstBatch"]) == 101 and first["cursor"]["id"] != 0
    assert first["cursor"]["ns"] == db.name + ".cur"
    more = db.command("getMore", first["cursor"]["id"], collection="cur", batchSize=200)
    assert len(more["cursor"]["nextBatch"]) == 200 and more["cursor"]["id"] == first["cursor"]["id"]
    rest = db.command("getMore", first["cursor"]["id"], collection="cur")
    assert len(rest["cursor"]["nextBatch"]) == 49 and rest["cursor"]["id"] == 0
    assert [d["_id"] for d in c.find().sort("_id", 1).batch_size(7)] == list(range(350))
    reply = db.command("find", "cur", limit=-5)
    assert len(reply["cursor"]["firstBatch"]) == 5 and reply["cursor"]["id"] == 0
    reply = db.command("find", "cur", batchSize=10, singleBatch=True)
    assert len(reply["cursor"]["firstBatch"]) == 10 and reply["cursor"]["id"] == 0
    reply = db.command("find", "cur", limit=20)
    assert len(reply["cursor"]["firstBatch"]) == 20 and reply["cursor"]["id"] == 0
    reply = db.command("find", "cur", batchSize=0)
    assert reply["cursor"]["firstBatch"] == [] and reply["cursor"]["id"] != 0
    # Batches stop at about 4 MB (at least one document each).
    db.big.insert_many([{"_id": i, "blob": b"x" * 1_000_000} for i in range(6)])
    big = db.command("find", "big")
    assert len(big["cursor"]["firstBatch"]) == 4
    assert len(db.command("getMore", big["cursor"]["id"], collection="big")["cursor"]["nextBatch"]) == 2
    killed = db.command("killCursors", "cur", cursors=[reply["cursor"]["id"], Int64(42)])
    assert killed["cursorsKilled"] == [reply["cursor"]["id"]] and killed["cursorsNotFound"] == [42]
    with pytest.raises(OperationFailure) as e:
        db.command("getMore", reply["cursor"]["id"], collection="cur")
    assert e.value.code == 43


def test_aggregate(db):
    c = db.agg
    c.insert_many([{"k": k, "v": v} for k in "abc" for v in range(4)])
    out = list(c.aggregate([{"$match": {"v": {"$gte": 1}}}, {"$group": {"_id": "$k", "s": {"$sum": "$v"}}},
                            {"$sort": {"_id": -1}}]))
    assert out == [{"_id": "c", "s": 6}, {"_id": "b", "s": 6}, {"_id": "a", "s": 6}]
    assert c.count_documents({"k": "a"}) == 4 and c.count_documents({"k": "a"}, skip=1, limit=2) == 2
    assert c.count_documents({"k": "zz"}) == 0
    reply = db.command("aggregate", "agg", pipeline=[{"$project": {"_id": 0, "k": 1}}], cursor={"batchSize": 5})
    assert len(reply["cursor"]["firstBatch"]) == 5 and reply["cursor"]["id"] != 0


# Indexes and duplicate keys.

def test_indexes_create_list_drop(db):
    c = db.ix
    assert c.create_index([("s", 1), ("v", -1)], unique=True, name="s_v") == "s_v"
    assert c.create_index([("s", 1), ("v", -1)], unique=True, name="s_v") == "s_v"     # idempotent
    with pytest.raises(OperationFailure) as e:
        c.create_index([("s", 1), ("v", -1)], name="s_v")
    assert e.value.code in (85, 86)
    c.create_index("p", sparse=True)
    info = c.index_information()
    assert info["s_v"]["key"] == [("s", 1), ("v", -1)] and info["s_v"]["unique"] is True
    assert info["p_1"]["sparse"] is True and "_id_" in info
    c.drop_index("p_1")
    assert sorted(c.index_information()) == ["_id_", "s_v"]
    with pytest.raises(OperationFailure) as e:
        c.drop_index("p_1")
    assert e.value.code == 27
    c.drop_indexes()
    assert list(c.index_information()) == ["_id_"]


def test_duplicate_keys_name_the_index(db):
    c = db.dup
    c.create_index([("stream", 1), ("version", 1)], unique=True, name="stream_version")
    c.create_index("position", unique=True, name="position_unique")
    c.insert_one({"_id": "a", "stream": "s", "version": 1, "position": 1})
    ns = db.name + ".dup"
    with pytest.raises(DuplicateKeyError) as e:
        c.insert_one({"stream": "s", "version": 1, "position": 2})
    d = e.value.details
    assert d["errmsg"] == 'E11000 duplicate key error collection: %s index: stream_version dup key: { stream: "s", version: 1 }' % ns
    assert d["keyPattern"] == {"stream": 1, "version": 1} and d["keyValue"] == {"stream": "s", "version": 1}
    with pytest.raises(DuplicateKeyError) as e:
        c.insert_one({"stream": "t", "version": 1, "position": 1})
    assert " index: position_unique dup key: { position: 1 }" in e.value.details["errmsg"]
    with pytest.raises(DuplicateKeyError) as e:
        c.insert_one({"_id": "a"})
    assert e.value.details["errmsg"] == "E11000 duplicate key error collection: %s index: _id_ dup key: { _id: \"a\" }" % ns
    assert e.value.details["keyPattern"] == {"_id": 1}
    # Ordered: stop at the first error, n counts the successes; unordered goes on.
    docs = [{"stream": "s", "version": 2, "position": 2}, {"stream": "s", "version": 1, "position": 3},
            {"stream": "s", "version": 3, "position": 4}]
    reply = db.command("insert", "dup", documents=docs)
    assert reply["ok"] == 1 and reply["n"] == 1 and [w["index"] for w in reply["writeErrors"]] == [1]
    assert reply["writeErrors"][0]["code"] == 11000 and "stream_version" in reply["writeErrors"][0]["errmsg"]
    docs = [{"stream": "s", "version": 1, "position": 5}, {"stream": "s", "version": 9, "position": 9}]
    reply = db.command("insert", "dup", documents=docs, ordered=False)
    assert reply["n"] == 1 and [w["index"] for w in reply["writeErrors"]] == [0]
    # Update into a duplicate; an upsert whose filter misses but whose _id exists.
    reply = db.command("update", "dup", updates=[{"q": {"position": 9}, "u": {"$set": {"position": 1}}}])
    assert reply["ok"] == 1 and reply["n"] == 0 and "index: position_unique" in reply["writeErrors"][0]["errmsg"]
    assert c.find_one({"version": 9})["position"] == 9
    reply = db.command("update", "dup", updates=[{"q": {"_id": "a", "stream": "other"}, "u": {"$set": {"x": 1}}, "upsert": True}])
    assert reply["writeErrors"][0]["code"] == 11000 and "index: _id_ dup key: { _id: \"a\" }" in reply["writeErrors"][0]["errmsg"]
    # findAndModify: a command error with code 11000 / DuplicateKey.
    reply = db.command("findAndModify", "dup", query={"_id": "zz"}, update={"$set": {"position": 1}}, upsert=True,
                       check=False)
    assert reply["ok"] == 0 and reply["code"] == 11000 and reply["codeName"] == "DuplicateKey"
    assert "index: position_unique dup key: { position: 1 }" in reply["errmsg"]
    with pytest.raises(DuplicateKeyError):
        c.find_one_and_update({"_id": "a"}, {"$set": {"position": 9}})
    assert c.find_one({"_id": "a"})["position"] == 1


def test_unique_index_missing_fields_and_sparse(db):
    c = db.miss
    c.create_index("k", unique=True)
    c.insert_one({"_id": 1})
    with pytest.raises(DuplicateKeyError) as e:     # missing == null
        c.insert_one({"_id": 2})
    assert "dup key: { k: null }" in e.value.details["errmsg"]
    with pytest.raises(DuplicateKeyError):
        c.insert_one({"_id": 3, "k": None})
    s = db.sparse
    s.create_index("k", unique=True, sparse=True)
    s.insert_many([{"_id": 1}, {"_id": 2}, {"_id": 3, "k": 1}])
    with pytest.raises(DuplicateKeyError):
        s.insert_one({"_id": 4, "k": 1})
    m = db.multikey
    m.create_index("tags", unique=True)
    m.insert_one({"tags": ["a", "b"]})
    with pytest.raises(DuplicateKeyError):
        m.insert_one({"tags": ["c", "b"]})
    m.insert_one({"tags": 1})
    with pytest.raises(DuplicateKeyError):     # 1 == 1.0 == Int64(1) in an index
        m.insert_one({"tags": 1.0})
    m.insert_one({"tags": True})               # but true is not 1
    # A unique index cannot be built over duplicates.
    db.pre.insert_many([{"k": 1}, {"k": 1}])
    with pytest.raises(OperationFailure) as e:
        db.pre.create_index("k", unique=True)
    assert e.value.code == 11000
    assert list(db.pre.index_information()) == ["_id_"]

    # NaN is one index key (every NaN equals every other), before and after a journal replay.
    n = db.nan
    n.create_index("k", unique=True)
    n.insert_one({"_id": 1, "k": float("nan")})
    with pytest.raises(DuplicateKeyError):
        n.insert_one({"_id": 2, "k": float("nan")})
    n.update_one({"_id": 1}, {"$set": {"k": 0}})
    n.insert_one({"_id": 2, "k": float("nan")})


def test_compound_index_prefix_queries(db):
    """Equality on leading fields of a compound index (the event store's stream lookup: one `t`
    for every document, `a` per stream) narrows to those documents; results are unchanged."""
    c = db.prefix
    c.create_index([("t", 1), ("a", 1), ("v", 1)], name="stream")
    c.insert_many([{"_id": i, "t": "Account", "a": "s%d" % (i % 50), "v": i // 50} for i in range(1000)])
    c.insert_one({"_id": "arr", "t": "Account", "a": ["s3", "s4"], "v": 99})
    c.insert_one({"_id": "missing", "t": "Account", "v": 100})
    last = c.find({"t": "Account", "a": "s7"}, {"v": 1}).sort("v", -1).limit(1)
    assert list(last) == [{"_id": 957, "v": 19}]
    assert [d["_id"] for d in c.find({"t": "Account", "a": "s3"}).sort("v", -1).limit(2)] == ["arr", 953]
    assert c.count_documents({"t": "Account", "a": {"$in": ["s1", "s2"]}}) == 40
    assert c.count_documents({"t": "Account", "a": "s1", "v": {"$in": [0, 1, 19, 20]}}) == 3
    assert c.count_documents({"t": "Account", "a": None}) == 1
    assert c.count_documents({"t": {"$in": ["Account", "Other"]}, "a": "s4"}) == 21
    c.update_many({"a": "s7"}, {"$set": {"a": "s8"}})
    assert c.count_documents({"t": "Account", "a": "s7"}) == 0
    assert c.count_documents({"t": "Account", "a": "s8"}) == 40
    c.delete_many({"t": "Account", "a": "s8", "v": {"$lt": 10}})
    assert sorted(d["v"] for d in c.find({"t": "Account", "a": "s8"})) == sorted(list(range(10, 20)) * 2)


# Types and query/update operators.

def _raw_find(client, db_name, coll, flt):
    c = client[db_name].get_collection(coll, codec_options=bson.CodecOptions(document_class=RawBSONDocument))
    return [d.raw for d in c.find(flt).sort("_id", 1)]


def test_types_round_trip(db):
    now = datetime.datetime(2024, 5, 6, 7, 8, 9, 123000)
    doc = {"_id": 1, "i32": 7, "i32max": 2**31 - 1, "i64small": Int64(5), "i64": Int64(2**31), "i64max": Int64(2**63 - 1),
           "i64min": Int64(-2**63), "d": 1.5, "dint": 2.0, "t": True, "f": False, "n": None,
           "s": "héllo wörld ✓ 日本語 🎉 \u0000nul", "nested": {"a": [1, {"b": [Int64(3), "x"]}], "e": {}}, "arr": [],
           "when": now, "oid": ObjectId("650000000000000000000001"), "bin": b"\x00\x01"}
    db.types.insert_one(doc)
    got = db.types.find_one({"_id": 1})
    assert got == doc
    for k in ("i64small", "i64", "i64max", "i64min"):
        assert type(got[k]) is Int64, k
    assert type(got["i32"]) is int and type(got["dint"]) is float
    # Byte-exact: the stored BSON is the BSON that was sent.
    assert _raw_find(db.client, db.name, "types", {"_id": 1}) == [bson.encode(doc)]
    db.types.update_one({"_id": 1}, {"$inc": {"i64small": 1, "i32": 1, "i32max": 1}})
    got = db.types.find_one({"_id": 1})
    assert type(got["i64small"]) is Int64 and got["i64small"] == 6
    assert type(got["i32"]) is int and got["i32"] == 8 and got["i32max"] == 2**31
    with pytest.raises(OperationFailure):
        db.types.update_one({"_id": 1}, {"$inc": {"i64max": 1}})
    with pytest.raises(OperationFailure):
        db.types.update_one({"_id": 1}, {"$set": {"partial": 1}, "$inc": {"s": 1}})
    assert "partial" not in db.types.find_one({"_id": 1})      # a failed update changes nothing
    assert db.types.find_one({"i64max": 2**63 - 1})["_id"] == 1
    assert db.types.find_one({"i64": {"$gt": 2**31 - 1, "$lt": 2**31 + 1}})["_id"] == 1


def test_mixed_type_sort_order(db):
    c = db.mixed
    values = [datetime.datetime(2020, 1, 1), True, ObjectId("650000000000000000000001"), [5], {"a": 1}, "b", "a",
              2.5, Int64(2), 1, None]
    c.insert_many([{"_id": i, "v": v} for i, v in enumerate(values)])
    c.insert_one({"_id": 99})
    order = [d["_id"] for d in c.find().sort([("v", 1), ("_id", 1)])]
    # MongoDB's order: null/missing < numbers < strings < objects < ObjectId < bool < date; an array
    # sorts by its element ([5] as 5; mongomock takes the first element, MongoDB the min/max).
    assert order == [10, 99, 9, 8, 7, 3, 6, 5, 4, 2, 1, 0]
    assert [d["_id"] for d in c.find().sort("v", -1).limit(3)] == [0, 1, 2]
    # Type bracketing: $gt 1 matches numbers only (and arrays holding one).
    assert [d["_id"] for d in c.find({"v": {"$gt": 1}}).sort("v", 1)] == [8, 7, 3]


def test_query_operators(db):
    c = db.ops
    c.create_index("n")
    c.insert_many([
        {"_id": 1, "n": 1, "s": "abc", "tags": ["x", "y"]},
        {"_id": 2, "n": 2, "s": "abd", "opt": None},
        {"_id": 3, "n": 3, "s": "a.b*c", "opt": 0},
        {"_id": 4, "n": 4, "s": "xabc"},
        {"_id": 5, "s": "ABC"},
    ])

    def ids(flt, **kw):
        return sorted(d["_id"] for d in c.find(flt, **kw))

    assert ids({"n": {"$in": [2, 4, 9]}}) == [2, 4]
    assert ids({"n": {"$ne": 2}}) == [1, 3, 4, 5]
    assert ids({"opt": {"$exists": True}}) == [2, 3] and ids({"opt": {"$exists": False}}) == [1, 4, 5]
    assert ids({"opt": None}) == [1, 2, 4, 5]
    assert ids({"s": {"$regex": "^ab"}}) == [1, 2] and ids({"s": {"$regex": "^abc", "$options": "i"}}) == [1, 5]
    assert ids({"s": {"$regex": "^" + re.escape("a.b*")}}) == [3] and ids({"s": re.compile("c$")}) == [1, 3, 4]
    assert ids({"$and": [{"n": {"$gte": 2}}, {"n": {"$lt": 4}}]}) == [2, 3]
    assert ids({"$or": [{"n": 1}, {"s": "xabc"}]}) == [1, 4]
    assert ids({"$nor": [{"n": 1}, {"n": {"$exists": False}}]}) == [2, 3, 4]
    assert ids({"n": {"$not": {"$gt": 2}}}) == [1, 2, 5]
    assert ids({"tags": "y"}) == [1] and ids({"tags": {"$in": ["z", "x"]}}) == [1]
    assert ids({"n": {"$gt": 1, "$lte": 3}}) == [2, 3]
    c.update_one({"_id": 1}, {"$max": {"n": 10}, "$min": {"m": 5}})
    c.update_one({"_id": 1}, {"$max": {"n": 7}, "$min": {"m": 6}})
    assert c.find_one({"_id": 1}, {"n": 1, "m": 1}) == {"_id": 1, "n": 10, "m": 5}
    c.update_one({"_id": 2}, {"$mul": {"n": 3}, "$unset": {"opt": ""}, "$push": {"log": "a"}})
    assert c.find_one({"_id": 2}) == {"_id": 2, "n": 6, "s": "abd", "log": ["a"]}
    assert [d["_id"] for d in c.find({"n": {"$gte": 4}}).sort("n", -1)] == [1, 2, 4]


# Concurrency, persistence, replica set.

def test_concurrent_clients_are_atomic(server, db):
    db.counter.insert_one({"_id": "c", "v": 0})
    db.claims.create_index("k", unique=True)
    errors = []
    wins = []

    def work(t):
        try:
            c = server.client(maxPoolSize=4)
            for i in range(100):
                c[db.name].counter.find_one_and_update({"_id": "c"}, {"$inc": {"v": 1}})
                try:
                    c[db.name].claims.insert_one({"k": i, "by": t})
                    wins.append(i)
                except DuplicateKeyError:
                    pass
            c.close()
        except Exception as e:      # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert db.counter.find_one({"_id": "c"})["v"] == 800
    assert sorted(wins) == list(range(100)) and db.claims.count_documents({}) == 100


def _snapshot(client):
    """Every database, collection, index and document, as raw BSON bytes in natural order."""
    out = {}
    for name in client.list_database_names():
        for coll in client[name].list_collection_names():
            c = client[name].get_collection(coll, codec_options=bson.CodecOptions(document_class=RawBSONDocument))
            out[(name, coll)] = ([d.raw for d in c.find()], sorted(map(str, client[name][coll].list_indexes())))
    return out


def test_crash_keeps_every_acknowledged_write(tmp_path):
    journal = tmp_path / "journal"
    s = Server(journal=journal)
    try:
        c = s.client()
        db = c.crash
        db.ev.create_index([("stream", 1), ("version", 1)], unique=True, name="stream_version")
        db.ev.insert_many([{"stream": "s%d" % (i % 3), "version": i // 3, "big": Int64(2**40 + i), "small": Int64(i)}
                           for i in range(30)])
        db.ev.update_many({"stream": "s1"}, {"$inc": {"small": 1}, "$set": {"when": datetime.datetime(2024, 1, 1)}})
        db.ev.delete_many({"stream": "s2", "version": {"$gte": 5}})
        db.cp.update_one({"name": "projection"}, {"$set": {"pos": Int64(7)}}, upsert=True)   # generated ObjectId
        db.cp.find_one_and_update({"_id": "seq"}, {"$inc": {"n": 1}}, upsert=True)
        db.cp.find_one_and_update({"_id": "seq"}, {"$inc": {"n": 1}})
        db.tmp.insert_one({"x": 1})
        db.tmp.drop()
        db.tmp.insert_one({"_id": "again"})
        db.gone.insert_one({"x": 1})
        db.gone.create_index("x")
        db.gone.drop_index("x_1")
        db.create_collection("empty")
        db.nan.create_index("k", unique=True)
        db.nan.insert_one({"_id": 1, "k": float("nan")})
        c.other.stuff.insert_one({"_id": 1})
        c.drop_database("other")
        before = _snapshot(c)
        c.close()
        s.restart()
        c = s.client()
        assert _snapshot(c) == before
        with pytest.raises(DuplicateKeyError):       # the index came back with its entries
            c.crash.ev.insert_one({"stream": "s0", "version": 0})
        with pytest.raises(DuplicateKeyError):
            c.crash.nan.insert_one({"_id": 2, "k": float("nan")})
        c.close()
        # A torn record at the end (a crash in the middle of a write) is cut off.
        with open(journal, "ab") as f:
            f.write(struct.pack("<i", 1000) + b"\x03partial")
        s.restart()
        c = s.client()
        assert _snapshot(c) == before
        c.crash.ev.insert_one({"_id": "after"})
        c.close()
        s.restart()
        c = s.client()
        assert c.crash.ev.find_one({"_id": "after"}) == {"_id": "after"}
        c.close()
    finally:
        s.stop()


def test_replica_set_mode(tmp_path):
    s = Server(replica_set="rs0")
    try:
        with raw(s) as sock:
            hello = op_msg(sock, {"hello": 1, "$db": "admin"})
        me = "127.0.0.1:%d" % s.port
        assert hello["setName"] == "rs0" and hello["hosts"] == [me] and hello["primary"] == me
        assert hello["me"] == me and hello["secondary"] is False and hello["setVersion"] == 1
        c = pymongo.MongoClient(s.url + "/?replicaSet=rs0", serverSelectionTimeoutMS=5000)
        c.rs.c.insert_one({"_id": 1})
        assert c.rs.c.find_one() == {"_id": 1}
        c.close()
        wrong = pymongo.MongoClient(s.url + "/?replicaSet=other", serverSelectionTimeoutMS=500)
        with pytest.raises(pymongo.errors.ServerSelectionTimeoutError):
            wrong.admin.command("ping")
        wrong.close()
    finally:
        s.stop()


LIBMONGOC_PROGRAM = r"""
#include <mongoc/mongoc.h>
#include <stdio.h>
#define FAIL(what) do { fprintf(stderr, "%s: %s\n", what, error.message); return 1; } while (0)
int main(int argc, char **argv) {
    bson_error_t error;
    bson_t reply;
    mongoc_init();
    mongoc_uri_t *uri = mongoc_uri_new_with_error(argv[1], &error);
    if (!uri) FAIL("uri");
    mongoc_client_pool_t *pool = mongoc_client_pool_new(uri);
    mongoc_client_t *client = mongoc_client_pool_pop(pool);
    mongoc_collection_t *coll = mongoc_client_get_collection(client, "libmongoc", "events");
    bson_t *ci = BCON_NEW("createIndexes", "events", "indexes", "[", "{", "key", "{", "stream", BCON_INT32(1),
                          "version", BCON_INT32(1), "}", "name", "stream_version", "unique", BCON_BOOL(true), "}", "]");
    if (!mongoc_collection_write_command_with_opts(coll, ci, NULL, &reply, &error)) FAIL("createIndexes");
    bson_destroy(&reply);
    mongoc_bulk_operation_t *bulk = mongoc_collection_create_bulk_operation_with_opts(coll, NULL);
    for (int i = 0; i < 250; i++) {
        bson_t *d = BCON_NEW("stream", "s", "version", BCON_INT64(i), "big", BCON_INT64(INT64_MAX));
        mongoc_bulk_operation_insert(bulk, d);
        bson_destroy(d);
    }
    if (!mongoc_bulk_operation_execute(bulk, &reply, &error)) FAIL("bulk");
    bson_destroy(&reply);
    bson_t *dup = BCON_NEW("stream", "s", "version", BCON_INT64(5));
    if (mongoc_collection_insert_one(coll, dup, NULL, &reply, &error)) { fprintf(stderr, "dup accepted\n"); return 1; }
    printf("dup %u %s\n", error.code, error.message);
    bson_destroy(&reply);
    bson_t *filter = BCON_NEW("stream", "s");
    bson_t *opts = BCON_NEW("sort", "{", "version", BCON_INT32(-1), "}", "batchSize", BCON_INT32(40));
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, filter, opts, NULL);
    const bson_t *doc;
    int n = 0;
    while (mongoc_cursor_next(cur, &doc)) {
        bson_iter_t it;
        if (!bson_iter_init_find(&it, doc, "big") || bson_iter_type(&it) != BSON_TYPE_INT64 || bson_iter_int64(&it) != INT64_MAX) {
            fprintf(stderr, "bad big\n");
            return 1;
        }
        n++;
    }
    if (mongoc_cursor_error(cur, &error)) FAIL("cursor");
    mongoc_cursor_destroy(cur);
    printf("found %d\n", n);
    int64_t count = mongoc_collection_count_documents(coll, filter, NULL, NULL, NULL, &error);
    if (count < 0) FAIL("count");
    printf("count %lld\n", (long long) count);
    mongoc_collection_destroy(coll);
    mongoc_client_pool_push(pool, client);
    mongoc_client_pool_destroy(pool);
    mongoc_uri_destroy(uri);
    mongoc_cleanup();
    return 0;
}
"""


def test_libmongoc_client(tmp_path):
    """libmongoc (what the Swift store links) against the server, if its headers and a C compiler exist."""
    if not shutil.which("cc") or subprocess.run(["pkg-config", "--exists", "libmongoc-1.0"]).returncode != 0:
        pytest.skip("libmongoc-dev or cc is not installed")
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libmongoc-1.0"], capture_output=True, text=True,
                           check=True).stdout.split()
    src = tmp_path / "t.c"
    src.write_text(LIBMONGOC_PROGRAM)
    subprocess.run(["cc", "-o", str(tmp_path / "t"), str(src), *flags], check=True, capture_output=True)
    s = Server(replica_set="rs0")
    try:
        for url in (s.url + "/?appname=t", s.url + "/?replicaSet=rs0"):
            out = subprocess.run([str(tmp_path / "t"), url], capture_output=True, text=True, timeout=60)
            assert out.returncode == 0, out.stderr
            lines = out.stdout.splitlines()
            assert lines[0].startswith("dup 11000 E11000 duplicate key error collection: libmongoc.events index: stream_version")
            assert lines[1:] == ["found 250", "count 250"]
            pymongo.MongoClient(s.url, serverSelectionTimeoutMS=5000).drop_database("libmongoc")
    finally:
        s.stop()
