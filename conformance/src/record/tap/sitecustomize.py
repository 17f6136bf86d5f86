"""The tap of `shuttle record`: logs the bytes of every tractor connection.

`shuttle record` writes this file into a fresh folder, puts that folder first
on PYTHONPATH and names its log folder in SHUTTLE_RECORD_DIR; every Python
process of the recorded program (tractor's subactors inherit the
environment) then loads it at startup. It changes nothing until tractor's
transport module is imported; then it wraps each new transport's socket
stream so that every `send_all` and `receive_some` is also written to this
process's log. tractor itself and the program are not edited.

Log file `<dir>/<pid>-<n>.tap`: the line `shuttle-tap/1\n`, then records of
`kind: u8, conn: u32 LE, t_ns: u64 LE (CLOCK_MONOTONIC), len: u32 LE`
followed by `len` bytes. Kinds: P process (JSON), O connection opened
(JSON), S bytes about to be sent, F the send before failed (text), R bytes
received, E end of stream read, C closed, L the log limit was reached.
Each record is one write(2) on an O_APPEND descriptor, so a process killed
mid-record leaves at most one cut record at the end.
"""

import os
import sys


def _install():
    folder = os.environ.get("SHUTTLE_RECORD_DIR")
    if not folder:
        return
    import contextvars
    import importlib.abc
    import importlib.machinery
    import itertools
    import json
    import socket
    import struct
    import threading
    import time

    limit = int(os.environ.get("SHUTTLE_RECORD_MAX_BYTES", str(1 << 30)))
    head = struct.Struct("<BIQI")
    lock = threading.Lock()
    state = {"fd": None, "pid": None, "written": 0, "full": False}
    conns = itertools.count(1)
    connecting = contextvars.ContextVar("shuttle_record_connecting", default=False)

    def versions():
        from importlib import metadata

        out = {}
        for dist in ("tractor", "msgspec", "trio"):
            try:
                out[dist] = metadata.version(dist)
            except Exception:
                pass
        return out

    def write_all(fd, data):
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]

    def record(kind, conn, payload=b""):
        # The program must never notice the tap: a log that cannot be
        # written (a full disk) is given up, once, with a line on stderr.
        if state.get("broken"):
            return
        try:
            write_record(kind, conn, payload)
        except Exception as e:
            state["broken"] = True
            print("shuttle record tap: logging stopped: %r" % (e,), file=sys.stderr)

    def write_record(kind, conn, payload):
        with lock:
            pid = os.getpid()
            if state["pid"] != pid:
                # First record, or a fork without exec: a log of our own.
                state["pid"] = pid
                state["written"] = 0
                state["full"] = False
                path = os.path.join(folder, "%d-%d.tap" % (pid, time.monotonic_ns()))
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
                state["fd"] = fd
                info = {
                    "pid": pid,
                    "ppid": os.getppid(),
                    "argv": list(sys.argv),
                    "python": "%d.%d.%d" % sys.version_info[:3],
                    "prefix": sys.prefix,
                    "base_prefix": sys.base_prefix,
                    "cwd": os.getcwd(),
                    "home": os.path.expanduser("~"),
                    "user": os.environ.get("USER") or os.environ.get("LOGNAME") or "",
                    "host": socket.gethostname(),
                    "runtime_dir": os.environ.get("XDG_RUNTIME_DIR", ""),
                    "versions": versions(),
                }
                body = json.dumps(info).encode()
                write_all(fd, b"shuttle-tap/1\n" + head.pack(ord("P"), 0, time.monotonic_ns(), len(body)) + body)
            if state["full"]:
                return
            if state["written"] + len(payload) > limit:
                state["full"] = True
                payload, kind = str(limit).encode(), "L"
            state["written"] += len(payload)
            write_all(state["fd"], head.pack(ord(kind), conn, time.monotonic_ns(), len(payload)) + payload)

    def sockname(name, family):
        if family == socket.AF_UNIX:
            if isinstance(name, bytes):
                if name.startswith(b"\0"):
                    return "@" + name[1:].decode("utf-8", "backslashreplace")
                return name.decode("utf-8", "surrogateescape")
            return name or ""
        if family == socket.AF_INET6:
            return "[%s]:%d" % (name[0], name[1])
        return "%s:%d" % (name[0], name[1])

    def tap(stream):
        sock = stream.socket
        family = sock.family
        conn = next(conns)
        opened = {
            "transport": "uds" if family == socket.AF_UNIX else "tcp",
            "local": sockname(sock.getsockname(), family),
            "remote": sockname(sock.getpeername(), family),
            "connected": connecting.get(),
        }
        # Under pytest, the test that opened the connection (a subactor
        # inherits the variable of the test that spawned it).
        test = os.environ.get("PYTEST_CURRENT_TEST")
        if test:
            opened["test"] = test.rsplit(" (", 1)[0]
        record("O", conn, json.dumps(opened).encode())
        send_all = stream.send_all
        receive_some = stream.receive_some
        aclose = stream.aclose

        async def tapped_send_all(data):
            record("S", conn, bytes(data))
            try:
                return await send_all(data)
            except BaseException as e:
                record("F", conn, type(e).__name__.encode())
                raise

        async def tapped_receive_some(max_bytes=None):
            data = await receive_some(max_bytes)
            if data:
                record("R", conn, bytes(data))
            else:
                record("E", conn)
            return data

        async def tapped_aclose():
            record("C", conn)
            return await aclose()

        stream.send_all = tapped_send_all
        stream.receive_some = tapped_receive_some
        stream.aclose = tapped_aclose

    def patch(module):
        transport = getattr(module, "MsgpackTransport", None) or getattr(module, "MsgpackTCPStream", None)
        if transport is None:
            return
        init = transport.__init__

        def __init__(self, stream, *args, **kwargs):
            init(self, stream, *args, **kwargs)
            try:
                tap(stream)
            except Exception as e:  # the program must not notice the tap
                print("shuttle record tap: cannot tap a connection: %r" % (e,), file=sys.stderr)

        transport.__init__ = __init__

        def wrap_connect(cls):
            found = cls.__dict__.get("connect_to")
            if not isinstance(found, classmethod):
                return
            inner = found.__func__

            async def connect_to(klass, *args, **kwargs):
                token = connecting.set(True)
                try:
                    return await inner(klass, *args, **kwargs)
                finally:
                    connecting.reset(token)

            cls.connect_to = classmethod(connect_to)

        previous = transport.__dict__.get("__init_subclass__")

        def __init_subclass__(cls, **kwargs):
            if previous is not None:
                previous.__func__(cls, **kwargs)
            else:
                super(transport, cls).__init_subclass__(**kwargs)
            wrap_connect(cls)

        transport.__init_subclass__ = classmethod(__init_subclass__)
        wrap_connect(transport)

        # tractor 0.1.0a5: `Channel.connect()` opens the stream itself.
        channel = getattr(module, "Channel", None)
        connect = getattr(channel, "connect", None)
        if channel is not None and connect is not None:

            async def channel_connect(self, *args, **kwargs):
                token = connecting.set(True)
                try:
                    return await connect(self, *args, **kwargs)
                finally:
                    connecting.reset(token)

            channel.connect = channel_connect

    targets = ("tractor.ipc._transport", "tractor._ipc")

    class Finder(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name not in targets:
                return None
            spec = importlib.machinery.PathFinder.find_spec(name, path)
            if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
                return spec
            exec_module = spec.loader.exec_module

            def exec_and_patch(module):
                exec_module(module)
                patch(module)

            spec.loader.exec_module = exec_and_patch
            return spec

    sys.meta_path.insert(0, Finder())


def _chain():
    # Run the sitecustomize this one shadows, if any.
    import importlib.machinery
    import importlib.util

    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if os.path.abspath(p or ".") != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is not None and spec.loader is not None:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)


try:
    _install()
except Exception as e:
    print("shuttle record tap: not installed: %r" % (e,), file=sys.stderr)
_chain()
