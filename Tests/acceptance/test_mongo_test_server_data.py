"""The MongoDB test server's data semantics: unique, sparse and compound indexes, BSON types and their
sort order, query operators, atomic concurrent clients, kill -9 with a journal, replica-set mode and a
compiled libmongoc client."""
import datetime
import re
import shutil
import struct
import subprocess
import threading

import bson
import pymongo
import pytest
from bson import ObjectId
from bson.int64 import Int64
from bson.raw_bson import RawBSONDocument
from pymongo.errors import DuplicateKeyError, OperationFailure

from mongo_test_support import Server, op_msg, raw
from mongo_test_support import server, client, db  # noqa: F401 (fixtures)


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
