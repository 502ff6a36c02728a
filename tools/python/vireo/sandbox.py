# SPDX-License-Identifier: BSD-2-Clause
"""Sandboxes: a guest-SDK program in a micro-VM of its own, called like a
library (libvireo's vireo_sandbox_*, include/vireo.h; docs/sandbox.md).

    >>> with vireo.Sandbox("build/sandbox/sbtest.elf") as sb:
    ...     sb.host_function("mul", lambda a, b, c, d: a * b)
    ...     sb.call("add", 2, 40)
    42

Try-catch with continuation: whatever the program cannot do (a fault, an
illegal instruction, ebreak, an unknown host function, running past the
time budget) calls on_catch(catch) with the cause, pc, the faulting address
and the registers. The handler may change catch.pc and catch.x[1..31], map
or write memory, and returns CONTINUE, RESTART or ABORT (None is ABORT);
an aborted call raises SandboxAborted and the sandbox is reset. An
exception raised by a handler or a host function aborts the call (a host
function's guest hears error -1) and is raised again from call().
"""
import ctypes
import errno

from . import VireoError, _b, _check, _declare, _last_error, _size

__all__ = ["Sandbox", "SandboxAborted", "CONTINUE", "RESTART", "ABORT", "FAULT", "BREAKPOINT",
           "ILLEGAL", "TIMEOUT", "HOSTCALL"]

CONTINUE, RESTART, ABORT = 0, 1, 2
FAULT, BREAKPOINT, ILLEGAL, TIMEOUT, HOSTCALL = 1, 2, 4, 8, 16
_WHY = {FAULT: "fault", BREAKPOINT: "breakpoint", ILLEGAL: "illegal", TIMEOUT: "timeout",
        HOSTCALL: "hostcall"}


class SandboxAborted(VireoError):
    """The handler aborted the call (or there was none): the sandbox was reset."""


class _Config(ctypes.Structure):
    _fields_ = [("memory", ctypes.c_uint64), ("budget_us", ctypes.c_uint64),
                ("reset_each_call", ctypes.c_bool), ("qemu", ctypes.c_char_p),
                ("hypervisor", ctypes.c_char_p), ("log_fd", ctypes.c_int),
                ("qemu_args", ctypes.c_char_p)]


class Catch(ctypes.Structure):
    """What the handler gets: why (FAULT, ...), insn, cause, pc, tval, gpa, x (the
    registers, x[1..31] writable), budget_us, name and hostcall_error (HOSTCALL),
    count (catches in this call so far)."""
    _fields_ = [("why", ctypes.c_int), ("insn", ctypes.c_uint32), ("cause", ctypes.c_uint64),
                ("pc", ctypes.c_uint64), ("tval", ctypes.c_uint64), ("gpa", ctypes.c_uint64),
                ("x", ctypes.c_uint64 * 32), ("budget_us", ctypes.c_uint64),
                ("_name", ctypes.c_char * 65), ("hostcall_error", ctypes.c_int64),
                ("count", ctypes.c_uint)]

    @property
    def name(self):
        return self._name.decode(errors="replace")

    @property
    def why_name(self):
        return _WHY.get(self.why, str(self.why))

    def __repr__(self):
        return "<Catch %s pc=%#x cause=%d gpa=%#x>" % (self.why_name, self.pc, self.cause,
                                                       self.gpa)


class _Stats(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint64) for n in
                ("calls", "hostcalls", "catches", "resets", "pages_restored",
                 "catch_out_insns", "continue_in_insns", "continues")]


_p = ctypes.c_void_p
_HOST_FN = ctypes.CFUNCTYPE(ctypes.c_int, _p, _p, ctypes.POINTER(ctypes.c_uint64),
                            ctypes.POINTER(ctypes.c_int64))
_CATCH_FN = ctypes.CFUNCTYPE(ctypes.c_int, _p, _p, ctypes.POINTER(Catch))
_open = _declare("vireo_sandbox_open", ctypes.c_int, ctypes.c_char_p, ctypes.POINTER(_Config),
                 ctypes.POINTER(_p))
_close = _declare("vireo_sandbox_close", None, _p)
_host_fn = _declare("vireo_sandbox_host_fn", ctypes.c_int, _p, ctypes.c_char_p, _HOST_FN, _p)
_on_catch = _declare("vireo_sandbox_on_catch", None, _p, _CATCH_FN, _p)
_call = _declare("vireo_sandbox_call", ctypes.c_int, _p, ctypes.c_char_p,
                 ctypes.POINTER(ctypes.c_uint64), ctypes.c_uint, ctypes.POINTER(ctypes.c_int64))
_budget = _declare("vireo_sandbox_budget", None, _p, ctypes.c_uint64)
_reset = _declare("vireo_sandbox_reset", ctypes.c_int, _p, ctypes.c_bool)
_read = _declare("vireo_sandbox_read", ctypes.c_int, _p, ctypes.c_uint64, ctypes.c_char_p,
                 ctypes.c_size_t)
_write = _declare("vireo_sandbox_write", ctypes.c_int, _p, ctypes.c_uint64, ctypes.c_char_p,
                  ctypes.c_size_t)
_map = _declare("vireo_sandbox_map", ctypes.c_int, _p, ctypes.c_uint64, ctypes.c_uint64,
                ctypes.c_uint)
_symbol = _declare("vireo_sandbox_symbol", ctypes.c_int, _p, ctypes.c_char_p,
                   ctypes.POINTER(ctypes.c_uint64), ctypes.POINTER(ctypes.c_uint64))
_read_buffer = _declare("vireo_sandbox_read_buffer", ctypes.c_int, _p, ctypes.c_char_p,
                        ctypes.c_uint64, ctypes.c_char_p, ctypes.c_size_t)
_write_buffer = _declare("vireo_sandbox_write_buffer", ctypes.c_int, _p, ctypes.c_char_p,
                         ctypes.c_uint64, ctypes.c_char_p, ctypes.c_size_t)
_stats = _declare("vireo_sandbox_stats", ctypes.c_int, _p, ctypes.POINTER(_Stats))
_log = _declare("vireo_sandbox_log", ctypes.c_char_p, _p)

_PERMS = {"r": 1, "w": 2, "x": 4}
_MASK = (1 << 64) - 1


def _u64(v):
    return int(v) & _MASK


class Sandbox:
    """A sandbox program, booted and ready for calls. memory: its RAM (bytes or "4M");
    budget: each call's time in seconds (None: no limit); reset_each_call: every call
    from the freshly loaded state; log: a file object that sees QEMU's console; qemu_args:
    more QEMU arguments (a string, split at whitespace)."""

    def __init__(self, program, *, memory="4M", budget=None, reset_each_call=False, qemu=None,
                 hypervisor=None, log=None, qemu_args=None):
        cfg = _Config(_size(memory), int((budget or 0) * 1e6), reset_each_call,
                      _b(qemu) if qemu else None, _b(hypervisor) if hypervisor else None,
                      log.fileno() if log is not None else -1,
                      _b(qemu_args) if qemu_args else None)
        self._sb = _p()  # first: __del__ may see a failed __init__
        self._fns = {}  # name -> the ctypes callback, kept alive
        self._error = None
        self.on_catch = None
        self._catch_cb = _CATCH_FN(self._catch)
        _check(_open(_b(str(program)), ctypes.byref(cfg), ctypes.byref(self._sb)))
        _on_catch(self._sb, self._catch_cb, None)

    # -- lifetime
    def close(self):
        if self._sb:
            _close(self._sb)
            self._sb = _p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    def _h(self):
        if not self._sb:
            raise ValueError("the sandbox is closed")
        return self._sb

    # -- calls
    def _catch(self, sb, ctx, c):
        if self._error is not None:
            return ABORT
        if self.on_catch is None:
            return ABORT
        try:
            act = self.on_catch(c.contents)
        except BaseException as e:  # raised again from call()
            self._error = e
            return ABORT
        return ABORT if act is None else int(act)

    def host_function(self, name, fn=None):
        """Serve the guest's vsb_host_call(name, a0..a3) with fn(a0, a1, a2, a3) -> int.
        Usable as a decorator: @sb.host_function("log")."""
        if fn is None:
            return lambda f: self.host_function(name, f) or f

        def serve(sb, ctx, args, result):
            if self._error is not None:
                return -1
            try:
                result[0] = int(fn(*[args[i] for i in range(4)]))
                return 0
            except BaseException as e:
                self._error = e
                return -1
        cb = _HOST_FN(serve)
        _check(_host_fn(self._h(), _b(name), cb, None))
        self._fns[name] = cb

    def call(self, name, *args):
        """Call the program's function name with up to 6 integers; its result (signed)."""
        if len(args) > 6:
            raise ValueError("at most 6 arguments")
        a = (ctypes.c_uint64 * 6)(*[_u64(v) for v in args])
        r = ctypes.c_int64()
        self._error = None
        rc = _call(self._h(), _b(name), a, len(args), ctypes.byref(r))
        if self._error is not None:
            e, self._error = self._error, None
            if rc == 0:  # the guest went on past a failed host function: reset it too
                _reset(self._h(), False)
            raise e
        if rc == -errno.ECANCELED:
            raise SandboxAborted(errno.ECANCELED, _last_error().decode(errors="replace"))
        _check(rc)
        return r.value

    def set_budget(self, seconds):
        """Each call's time budget from now on (None: no limit)."""
        _budget(self._h(), int((seconds or 0) * 1e6))

    def reset(self, full=False):
        """Back to the freshly loaded state; the pages restored."""
        rc = _reset(self._h(), full)
        _check(rc)
        return rc

    # -- memory
    def read(self, gpa, n):
        buf = ctypes.create_string_buffer(n)
        _check(_read(self._h(), gpa, buf, n))
        return buf.raw

    def write(self, gpa, data):
        _check(_write(self._h(), gpa, bytes(data), len(data)))

    def map(self, gpa, size, perms="rw"):
        """Fresh zeroed memory at gpa until the next reset (perms of "rwx")."""
        _check(_map(self._h(), gpa, size, sum(_PERMS[p] for p in perms)))

    def symbol(self, name):
        """(address, size) of a function or buffer of the program."""
        addr, size = ctypes.c_uint64(), ctypes.c_uint64()
        _check(_symbol(self._h(), _b(name), ctypes.byref(addr), ctypes.byref(size)))
        return addr.value, size.value

    def read_buffer(self, name, n=None, offset=0):
        if n is None:
            n = self.symbol(name)[1] - offset
        buf = ctypes.create_string_buffer(n)
        _check(_read_buffer(self._h(), _b(name), offset, buf, n))
        return buf.raw

    def write_buffer(self, name, data, offset=0):
        _check(_write_buffer(self._h(), _b(name), offset, bytes(data), len(data)))

    def stats(self):
        s = _Stats()
        _check(_stats(self._h(), ctypes.byref(s)))
        return {n: getattr(s, n) for n, _ in _Stats._fields_}

    @property
    def log(self):
        """QEMU's console output so far (its last 16 KiB)."""
        return _log(self._h()).decode(errors="replace")
