"""Settings from the command line, protocol limits, the BSON codec and the log."""

import sys
import time

from bson.codec_options import CodecOptions, DatetimeConversion

CODEC = CodecOptions(datetime_conversion=DatetimeConversion.DATETIME_AUTO)
MAX_BSON = 16 * 1024 * 1024
MAX_MESSAGE = 48_000_000
MAX_WRITE_BATCH = 100_000
BATCH_BYTES = 4 * 1024 * 1024          # a cursor batch stops growing past this size
DEFAULT_FIRST_BATCH = 101
CURSOR_IDLE_SECONDS = 600

# Set once by server.main() before the first connection.
HOST = '127.0.0.1'
PORT = 0
REPLICA_SET = None
LOG = False
START = time.time()


def log(*args):
    if LOG:
        print('mongo-test-server:', *args, file=sys.stderr, flush=True)
