#include <mongoc/mongoc.h>
#include <string.h>

/// Runs one command document (BSON bytes) on `client` against database `db` and returns the reply's
/// bytes (free them with `bson_free`), or NULL when there is no reply document. `bson_t` is declared
/// 128-byte aligned, which Swift cannot lay out, so the documents live on this C frame.
static inline uint8_t *cqrs_mongo_command(mongoc_client_t *client, const char *db, const uint8_t *data,
                                           uint32_t length, bson_error_t *error, bool *ok, uint32_t *reply_length) {
    bson_t command;
    *reply_length = 0;
    if (!bson_init_static(&command, data, length)) {
        *ok = false;
        bson_set_error(error, MONGOC_ERROR_BSON, MONGOC_ERROR_BSON_INVALID, "invalid command document");
        return NULL;
    }
    bson_t reply;
    *ok = mongoc_client_command_simple(client, db, &command, NULL, &reply, error);
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
