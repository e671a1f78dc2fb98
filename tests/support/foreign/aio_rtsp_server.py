"""aio-rtsp-toolkit (PyPI) for camd's interop tests (tests/support/foreign_servers.rs): an
asyncio RTSP server that serves the .mp4 files of a directory over RTSP over TCP (interleaved)
only; SETUP with a UDP transport gets 461. `?play_count=0` in the URL loops the file.

usage: python aio_rtsp_server.py DIR PORT   (prints "listening" when it accepts connections)
"""
import asyncio
import signal
import sys

import aio_rtsp_toolkit.server as server


class Quiet:
    """The toolkit logs through a module-level object with these methods; keep errors only."""

    def debug(self, message):
        pass

    info = warning = warn = debug

    def error(self, message):
        print(message, file=sys.stderr, flush=True)

    exception = error


async def main(directory, port):
    server.logger = Quiet()
    rtsp = server.RtspServer(directory, host="127.0.0.1", port=port, session_timeout=60)
    await rtsp.start()
    print("listening", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    serving = asyncio.create_task(rtsp.serve_forever())
    await stop.wait()
    serving.cancel()
    await rtsp.close()


asyncio.run(main(sys.argv[1], int(sys.argv[2])))
