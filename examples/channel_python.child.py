"""The Python side of channel_python.ts: receive every message of the channel a handle names, with the
shared_atomic_js module (python/ of this checkout; from npm: PYTHONPATH=node_modules/shared-atomic/python).

    python3 channel_python.child.py 'sa1:channel@0:shm:/name?id=...'
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))  # this checkout's module
from shared_atomic_js import Channel  # noqa: E402

ch = Channel.from_handle(sys.argv[1])  # opens the segment, checks the type, offset and identity
count, last = 0, b""
for message in ch:  # blocks while empty (the GIL released); ends once it is closed and drained
    count, last = count + 1, message
print(f"python received {count}, the last: {last.decode()}")
