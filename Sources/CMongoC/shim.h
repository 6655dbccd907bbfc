#include <mongoc/mongoc.h>
#include <string.h>

/// How a command is sent: `read` applies the client's read concern and read preference, `write` its
/// write concern (and fails on a write-concern error), `readWrite` both (findAndModify), `plain`
/// neither (getMore, which must not carry a read concern).
typedef enum { CQRS_MONGO_READ = 0, CQRS_MONGO_WRITE = 1, CQRS_MONGO_READ_WRITE = 2, CQRS_MONGO_PLAIN = 3 } cqrs_mongo_kind_t;

/// Runs one command document (BSON bytes) on `client` against database `db` and returns the reply's
/// bytes (free them with `bson_free`), or NULL when there is no reply document. `bson_t` is declared
/// 128-byte aligned, which Swift cannot lay out, so the documents live on this C frame.
static inline uint8_t *cqrs_mongo_command(mongoc_client_t *client, const char *db, const uint8_t *data, uint32_t length,
                                           int kind, bson_error_t *error, bool *ok, uint32_t *reply_length) {
    bson_t command;
    *reply_length = 0;
    if (!bson_init_static(&command, data, length)) {
        *ok = false;
        bson_set_error(error, MONGOC_ERROR_BSON, MONGOC_ERROR_BSON_INVALID, "invalid command document");
        return NULL;
    }
    bson_t reply;
    switch (kind) {
    case CQRS_MONGO_READ: *ok = mongoc_client_read_command_with_opts(client, db, &command, NULL, NULL, &reply, error); break;
    case CQRS_MONGO_WRITE: *ok = mongoc_client_write_command_with_opts(client, db, &command, NULL, &reply, error); break;
    case CQRS_MONGO_READ_WRITE:
        *ok = mongoc_client_read_write_command_with_opts(client, db, &command, NULL, NULL, &reply, error);
        break;
    default: *ok = mongoc_client_command_simple(client, db, &command, NULL, &reply, error); break;
    }
    uint32_t n = reply.len;
    uint8_t *copy = NULL;
    if (n > 5) {
        copy = (uint8_t *) bson_malloc(n);
        memcpy(copy, bson_get_data(&reply), n);
        *reply_length = n;
    }
    bson_destroy(&reply);
    return copy;
}

/// Sets majority write and read concerns on `uri` unless it names its own.
static inline void cqrs_mongo_default_concerns(mongoc_uri_t *uri) {
    if (mongoc_write_concern_is_default(mongoc_uri_get_write_concern(uri))) {
        mongoc_write_concern_t *concern = mongoc_write_concern_new();
        mongoc_write_concern_set_w(concern, MONGOC_WRITE_CONCERN_W_MAJORITY);
        mongoc_uri_set_write_concern(uri, concern);
        mongoc_write_concern_destroy(concern);
    }
    if (mongoc_read_concern_get_level(mongoc_uri_get_read_concern(uri)) == NULL) {
        mongoc_read_concern_t *concern = mongoc_read_concern_new();
        mongoc_read_concern_set_level(concern, MONGOC_READ_CONCERN_LEVEL_MAJORITY);
        mongoc_uri_set_read_concern(uri, concern);
        mongoc_read_concern_destroy(concern);
    }
}
