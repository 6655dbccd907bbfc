"""The MongoDB wire-protocol test server (Tests/mongo-test-server/mongo_test_server.py), driven with
pymongo and raw sockets against servers this module starts itself (port 0, own journal).
This file: the wire protocol (OP_QUERY, OP_MSG, errors), admin commands, CRUD, cursors and
aggregation; test_mongo_test_server_data.py: indexes, types, queries, concurrency, crashes, replica-set
mode and a compiled libmongoc client."""
import datetime
import struct

import bson
import pytest
from bson import ObjectId
from bson.int64 import Int64
from pymongo.errors import OperationFailure

from mongo_test_support import _recv_message, op_msg, op_query, raw
from mongo_test_support import server, client, db  # noqa: F401 (fixtures)


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
