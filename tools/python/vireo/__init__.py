# SPDX-License-Identifier: BSD-2-Clause
"""Run a program in a fresh RISC-V Linux VM under Vireo, as a subprocess.

    >>> import vireo
    >>> vireo.run(["sort"], input=b"b\\na\\n", capture_output=True).stdout
    b'a\\nb\\n'

The shapes are those of the standard library's subprocess: run() returns a
subprocess.CompletedProcess, Popen has stdin/stdout/stderr, poll(), wait(),
communicate(), send_signal(), terminate(), kill(), and PIPE, DEVNULL and
STDOUT mean what they mean there. What a VM adds is keyword arguments:
memory (bytes, or "256M"), vcpus, harts, kernel, initramfs, disks, net, bootargs,
time_limit (seconds), copy_in and copy_out (pairs of paths), tty, bare
(plain QEMU, no hypervisor), qemu, qemu_machine (QEMU's -machine), hypervisor
log (a file object that sees QEMU's console), gdb (a port for a gdb server on the
VM, 0: any, then Popen.gdb_port says which) and gdb_wait (the VM waits for gdb at its
first instruction); machine (run in a new VM of
that running machine, no QEMU of its own) and in_vm (...in that VM of the
machine, running the agent).

Machines (docs/machine.md): machine_start(name, ...) boots one in the
background and returns once it is ready, machine_stop(name) ends it,
machine_status(name) and machines() describe them; vm_create(machine, name,
spec, start), vm_start/vm_stop/vm_remove/vm_pause/vm_resume(machine, name)
and vms(machine) manage its VMs; vm_snapshot(machine, name, path),
vm_restore(machine, name, path) and vm_fork(machine, template, name) save,
restore and fork them.

returncode is subprocess's: the program's exit status, or -N when signal N
killed it; 127 when it was not found, 126 when it could not be executed,
125 when Vireo, QEMU, the guest or a copy failed (then .error says why),
124 when time_limit ran out, 137 when stop() ended the VM.

This module is a thin layer over libvireo (ctypes): the library builds the
boot bundle, starts QEMU so that it dies with this process, and speaks the
channel protocol; one implementation serves C, the vireo command and Python.
It is found through $VIREO_LIBRARY, the installed path, a build tree, or the
system's library path.
"""
import ctypes
import ctypes.util
import errno
import io
import os
import select
import selectors
import signal
import subprocess
import threading
import time

__all__ = ["run", "Popen", "PIPE", "DEVNULL", "STDOUT", "CompletedProcess",
           "CalledProcessError", "TimeoutExpired", "VireoError", "library_version",
           "machine_start", "machine_stop", "machine_status", "machines", "vm_create",
           "vm_start", "vm_stop", "vm_remove", "vm_pause", "vm_resume", "vms", "vm_snapshot",
           "vm_restore", "vm_fork", "Sandbox", "SandboxAborted"]

PIPE = subprocess.PIPE
DEVNULL = subprocess.DEVNULL
STDOUT = subprocess.STDOUT
CompletedProcess = subprocess.CompletedProcess
CalledProcessError = subprocess.CalledProcessError
TimeoutExpired = subprocess.TimeoutExpired

# include/vireo.h
_INHERIT, _PIPE, _NULL, _FD = 0, 1, 2, 3
_MODE_VIREO, _MODE_BARE = 0, 1
_EXITED, _SIGNALED = 0, 1


class VireoError(OSError):
    """The VM could not be started (a missing kernel, QEMU not found, ...)."""


class _MachineStatus(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char * 32), ("pid", ctypes.c_int), ("harts", ctypes.c_uint),
                ("vms", ctypes.c_uint), ("memory", ctypes.c_uint64), ("free", ctypes.c_uint64),
                ("limit", ctypes.c_uint64), ("committed", ctypes.c_uint64),
                ("template_vm", ctypes.c_char * 32), ("spares", ctypes.c_uint),
                ("spares_ready", ctypes.c_uint)]


class _VmStatus(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char * 32), ("id", ctypes.c_uint), ("state", ctypes.c_char * 16),
                ("origin", ctypes.c_char * 16), ("vcpus", ctypes.c_uint),
                ("memory", ctypes.c_uint64), ("exit_status", ctypes.c_int),
                ("agent", ctypes.c_int)]


class _Status(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("end", ctypes.c_int), ("value", ctypes.c_int),
                ("message", ctypes.c_char * 512)]


def _find_library():
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [os.environ.get("VIREO_LIBRARY")]
    try:
        from . import _config  # written by make install
        candidates.append(os.path.join(_config.LIBDIR, "libvireo.so.0"))
    except ImportError:
        pass
    # A build tree: tools/python/vireo -> build/
    candidates.append(os.path.join(here, "..", "..", "..", "build", "libvireo.so.0"))
    candidates.append(ctypes.util.find_library("vireo"))
    for c in candidates:
        if c and (os.path.exists(c) or not os.path.dirname(c)):
            try:
                return ctypes.CDLL(c, use_errno=True)
            except OSError:
                continue
    raise ImportError("libvireo.so.0 not found: build it (make) or install it (make install), "
                      "or set VIREO_LIBRARY to its path")


_lib = _find_library()


def _declare(name, restype, *argtypes):
    f = getattr(_lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


_c = ctypes.c_void_p
_version = _declare("vireo_version", ctypes.c_char_p)
_last_error = _declare("vireo_last_error", ctypes.c_char_p)
_cmd_new = _declare("vireo_cmd_new", _c, ctypes.c_char_p)
_cmd_free = _declare("vireo_cmd_free", None, _c)
_cmd_arg = _declare("vireo_cmd_arg", ctypes.c_int, _c, ctypes.c_char_p)
_cmd_env = _declare("vireo_cmd_env", ctypes.c_int, _c, ctypes.c_char_p, ctypes.c_char_p)
_cmd_cwd = _declare("vireo_cmd_cwd", ctypes.c_int, _c, ctypes.c_char_p)
_cmd_stdio = _declare("vireo_cmd_stdio", ctypes.c_int, _c, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int)
_cmd_tty = _declare("vireo_cmd_tty", ctypes.c_int, _c, ctypes.c_bool, ctypes.c_uint,
                    ctypes.c_uint)
_cmd_memory = _declare("vireo_cmd_memory", ctypes.c_int, _c, ctypes.c_uint64)
_cmd_vcpus = _declare("vireo_cmd_vcpus", ctypes.c_int, _c, ctypes.c_uint)
_cmd_harts = _declare("vireo_cmd_harts", ctypes.c_int, _c, ctypes.c_uint)
_cmd_kernel = _declare("vireo_cmd_kernel", ctypes.c_int, _c, ctypes.c_char_p)
_cmd_initramfs = _declare("vireo_cmd_initramfs", ctypes.c_int, _c, ctypes.c_char_p)
_cmd_disk = _declare("vireo_cmd_disk", ctypes.c_int, _c, ctypes.c_char_p, ctypes.c_bool)
_cmd_net = _declare("vireo_cmd_net", ctypes.c_int, _c, ctypes.c_bool)
_cmd_qemu_machine = _declare("vireo_cmd_qemu_machine", ctypes.c_int, _c, ctypes.c_char_p)
_cmd_bootargs = _declare("vireo_cmd_bootargs", ctypes.c_int, _c, ctypes.c_char_p)
_cmd_time_limit = _declare("vireo_cmd_time_limit", ctypes.c_int, _c, ctypes.c_uint64)
_cmd_copy_in = _declare("vireo_cmd_copy_in", ctypes.c_int, _c, ctypes.c_char_p,
                        ctypes.c_char_p)
_cmd_copy_out = _declare("vireo_cmd_copy_out", ctypes.c_int, _c, ctypes.c_char_p,
                         ctypes.c_char_p)
_cmd_mode = _declare("vireo_cmd_mode", ctypes.c_int, _c, ctypes.c_int)
_cmd_qemu = _declare("vireo_cmd_qemu", ctypes.c_int, _c, ctypes.c_char_p)
_cmd_hypervisor = _declare("vireo_cmd_hypervisor", ctypes.c_int, _c, ctypes.c_char_p)
_cmd_log = _declare("vireo_cmd_log", ctypes.c_int, _c, ctypes.c_int)
_spawn = _declare("vireo_spawn", ctypes.c_int, _c, ctypes.POINTER(_c))
_child_fd = _declare("vireo_child_fd", ctypes.c_int, _c, ctypes.c_int)
_child_signal = _declare("vireo_child_signal", ctypes.c_int, _c, ctypes.c_int)
_child_winsize = _declare("vireo_child_winsize", ctypes.c_int, _c, ctypes.c_uint,
                          ctypes.c_uint)
_child_stop = _declare("vireo_child_stop", ctypes.c_int, _c)
_child_wait = _declare("vireo_child_wait", ctypes.c_int, _c, ctypes.POINTER(_Status))
_child_done_fd = _declare("vireo_child_done_fd", ctypes.c_int, _c)
_child_pid = _declare("vireo_child_pid", ctypes.c_int, _c)
_child_qemu_pid = _declare("vireo_child_qemu_pid", ctypes.c_int, _c)
_child_log = _declare("vireo_child_log", ctypes.c_char_p, _c)
_cmd_gdb = _declare("vireo_cmd_gdb", ctypes.c_int, _c, ctypes.c_int, ctypes.c_bool)
_child_gdb_port = _declare("vireo_child_gdb_port", ctypes.c_int, _c)
_child_free = _declare("vireo_child_free", None, _c)
_cmd_machine = _declare("vireo_cmd_machine", ctypes.c_int, _c, ctypes.c_char_p)
_cmd_in_vm = _declare("vireo_cmd_in_vm", ctypes.c_int, _c, ctypes.c_char_p)
_mcfg_new = _declare("vireo_machine_cfg_new", _c, ctypes.c_char_p)
_mcfg_free = _declare("vireo_machine_cfg_free", None, _c)
_mcfg_memory = _declare("vireo_machine_cfg_memory", ctypes.c_int, _c, ctypes.c_uint64)
_mcfg_harts = _declare("vireo_machine_cfg_harts", ctypes.c_int, _c, ctypes.c_uint)
_mcfg_spares = _declare("vireo_machine_cfg_spares", ctypes.c_int, _c, ctypes.c_uint)
_mcfg_template = _declare("vireo_machine_cfg_template", ctypes.c_int, _c, ctypes.c_bool,
                          ctypes.c_uint64, ctypes.c_uint)
_mcfg_disk = _declare("vireo_machine_cfg_disk", ctypes.c_int, _c, ctypes.c_char_p, ctypes.c_bool)
_mcfg_file = _declare("vireo_machine_cfg_file", ctypes.c_int, _c, ctypes.c_char_p,
                      ctypes.c_char_p)
_machine_start = _declare("vireo_machine_start", ctypes.c_int, _c)
_machine_stop = _declare("vireo_machine_stop", ctypes.c_int, ctypes.c_char_p)
_machine_status = _declare("vireo_machine_status", ctypes.c_int, ctypes.c_char_p,
                           ctypes.POINTER(_MachineStatus))
_machine_list = _declare("vireo_machine_list", ctypes.c_int,
                         ctypes.POINTER(ctypes.POINTER(_MachineStatus)),
                         ctypes.POINTER(ctypes.c_size_t))
_vm_create = _declare("vireo_vm_create", ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p,
                      ctypes.c_char_p, ctypes.c_bool)
_vm_list = _declare("vireo_vm_list", ctypes.c_int, ctypes.c_char_p,
                    ctypes.POINTER(ctypes.POINTER(_VmStatus)), ctypes.POINTER(ctypes.c_size_t))
_vm_ops = {op: _declare("vireo_vm_" + op, ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p)
           for op in ("start", "stop", "remove", "pause", "resume")}
_vm_gdb = _declare("vireo_vm_gdb", ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int,
                   ctypes.POINTER(ctypes.c_int))
_vm_snapshot = _declare("vireo_vm_snapshot", ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p,
                        ctypes.c_char_p, ctypes.c_int)
_vm_restore = _declare("vireo_vm_restore", ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p,
                       ctypes.c_char_p, ctypes.c_bool)
_vm_fork = _declare("vireo_vm_fork", ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p,
                    ctypes.c_char_p, ctypes.c_bool, ctypes.c_uint64)
_libc_free = ctypes.CDLL(None).free
_libc_free.argtypes = [_c]
_libc_free.restype = None


def library_version():
    return _version().decode()


def _b(s):
    return os.fsencode(s) if not isinstance(s, bytes) else s


def _check(rc):
    if rc < 0:
        raise VireoError(-rc, _last_error().decode(errors="replace"))
    return rc


def _size(v):
    """Bytes from an int or a string like 512M or 1G."""
    if isinstance(v, int):
        return v
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    v = str(v).strip().upper().rstrip("B")
    if v and v[-1] in units:
        return int(float(v[:-1]) * units[v[-1]])
    return int(v)


class Popen:
    """A program running in its own VM. Like subprocess.Popen; see the module's doc."""

    def __init__(self, args, stdin=None, stdout=None, stderr=None, *, env=None, cwd=None,
                 tty=False, rows=24, cols=80, memory=None, vcpus=None, harts=None,
                 kernel=None, initramfs=None, disks=(), net=False, bootargs=None,
                 time_limit=None, copy_in=(), copy_out=(), bare=False, qemu=None, qemu_machine=None, hypervisor=None,
                 log=None, machine=None, in_vm=None, gdb=None, gdb_wait=False,
                 text=None, encoding=None, errors=None, universal_newlines=None):
        if isinstance(args, (str, bytes)):
            args = [args]
        args = list(args)
        if not args:
            raise ValueError("args is empty")
        self.args = args
        self.returncode = None
        self.error = None
        self.exit_status = None
        self._child = None
        self._lock = threading.Lock()
        self._text = bool(text or encoding or errors or universal_newlines)
        self._encoding, self._errors = encoding, errors
        cmd = _cmd_new(_b(args[0]))
        if not cmd:
            raise VireoError(errno.ENOMEM, _last_error().decode(errors="replace"))
        own_fds = []
        try:
            for a in args[1:]:
                _check(_cmd_arg(cmd, _b(a)))
            for k, v in (env or {}).items():
                _check(_cmd_env(cmd, _b(k), _b(v)))
            if cwd is not None:
                _check(_cmd_cwd(cmd, _b(cwd)))
            merged = None
            if stderr == STDOUT:
                if stdout == PIPE:
                    merged = os.pipe()  # both streams into one pipe of ours
                    own_fds += list(merged)
            for i, how in enumerate((stdin, stdout, stderr)):
                if merged and i in (1, 2):
                    _check(_cmd_stdio(cmd, i, _FD, merged[1]))
                elif how == STDOUT and i == 2:
                    self._stdio_to(cmd, 2, stdout)
                else:
                    self._stdio_to(cmd, i, how)
            if tty:
                _check(_cmd_tty(cmd, True, rows, cols))
            if memory is not None:
                _check(_cmd_memory(cmd, _size(memory)))
            if vcpus is not None:
                _check(_cmd_vcpus(cmd, vcpus))
            if harts is not None:
                _check(_cmd_harts(cmd, harts))
            if kernel is not None:
                _check(_cmd_kernel(cmd, _b(kernel)))
            if initramfs is not None:
                _check(_cmd_initramfs(cmd, None if initramfs is False else _b(initramfs)))
            for d in disks:
                path, ro = (d, False) if isinstance(d, (str, bytes, os.PathLike)) else d
                _check(_cmd_disk(cmd, _b(path), bool(ro)))
            if net:
                _check(_cmd_net(cmd, True))
            if bootargs:
                _check(_cmd_bootargs(cmd, _b(bootargs)))
            if time_limit is not None:
                _check(_cmd_time_limit(cmd, max(1, int(time_limit * 1000))))
            for host, guest in copy_in:
                _check(_cmd_copy_in(cmd, _b(host), _b(guest)))
            for guest, host in copy_out:
                _check(_cmd_copy_out(cmd, _b(guest), _b(host)))
            if bare:
                _check(_cmd_mode(cmd, _MODE_BARE))
            if qemu:
                _check(_cmd_qemu(cmd, _b(qemu)))
            if qemu_machine:
                _check(_cmd_qemu_machine(cmd, _b(qemu_machine)))
            if hypervisor:
                _check(_cmd_hypervisor(cmd, _b(hypervisor)))
            if log is not None:
                _check(_cmd_log(cmd, log if isinstance(log, int) else log.fileno()))
            if machine is not None:
                _check(_cmd_machine(cmd, _b(machine)))
            if in_vm is not None:
                _check(_cmd_in_vm(cmd, _b(in_vm)))
            if gdb is not None:
                _check(_cmd_gdb(cmd, int(gdb), bool(gdb_wait)))
            child = _c()
            _check(_spawn(cmd, ctypes.byref(child)))
            self._child = child
        finally:
            _cmd_free(cmd)
            if merged:
                os.close(merged[1])
                own_fds.remove(merged[1])
        self.stdin = self._file(0, "wb") if stdin == PIPE else None
        if merged:
            self.stdout = self._wrap(os.fdopen(merged[0], "rb"), "rb")
        else:
            self.stdout = self._file(1, "rb") if stdout == PIPE else None
        self.stderr = self._file(2, "rb") if stderr == PIPE else None

    @staticmethod
    def _stdio_to(cmd, i, how):
        if how is None:
            _check(_cmd_stdio(cmd, i, _INHERIT, -1))
        elif how == PIPE:
            _check(_cmd_stdio(cmd, i, _PIPE, -1))
        elif how == DEVNULL:
            _check(_cmd_stdio(cmd, i, _NULL, -1))
        elif isinstance(how, int) and how >= 0:
            _check(_cmd_stdio(cmd, i, _FD, how))
        elif hasattr(how, "fileno"):
            _check(_cmd_stdio(cmd, i, _FD, how.fileno()))
        else:
            raise ValueError("stdio %d: %r is not None, PIPE, DEVNULL, a descriptor or a file"
                             % (i, how))

    def _wrap(self, f, mode):
        if not self._text:
            return f
        return io.TextIOWrapper(f, encoding=self._encoding, errors=self._errors,
                                write_through=mode == "wb", line_buffering=mode == "wb")

    def _file(self, stream, mode):
        fd = _check(_child_fd(self._child, stream))
        return self._wrap(os.fdopen(fd, mode, buffering=-1 if mode == "rb" else 0), mode)

    # ---- the program
    @property
    def pid(self):
        """The program's PID inside the guest (0 until it has started)."""
        return _child_pid(self._child) if self._child else 0

    @property
    def qemu_pid(self):
        return _child_qemu_pid(self._child) if self._child else 0

    @property
    def gdb_port(self):
        """The port of the VM's gdb server (gdb=...), None without one."""
        port = _child_gdb_port(self._child) if self._child else -1
        return port if port > 0 else None

    @property
    def log(self):
        """The last of QEMU's console (firmware, Vireo, the kernel), once it has ended."""
        return _child_log(self._child).decode(errors="replace") if self._child else ""

    def send_signal(self, sig):
        if self.returncode is None and self._child:
            _child_signal(self._child, int(sig))

    def terminate(self):
        self.send_signal(signal.SIGTERM)

    def kill(self):
        self.send_signal(signal.SIGKILL)

    def stop(self):
        """End the VM now, whatever the program is doing."""
        if self.returncode is None and self._child:
            _child_stop(self._child)

    def resize(self, rows, cols):
        """The pseudo-terminal's size (with tty=True)."""
        if self.returncode is None and self._child:
            _child_winsize(self._child, rows, cols)

    def _finish(self):
        with self._lock:
            if self.returncode is not None:
                return self.returncode
            st = _Status()
            code = _child_wait(self._child, ctypes.byref(st))
            self.exit_status = code
            self.error = st.message.decode(errors="replace") or None
            self.returncode = -st.value if st.end == _SIGNALED else code
            return self.returncode

    def poll(self):
        if self.returncode is None:
            r, _, _ = select.select([_child_done_fd(self._child)], [], [], 0)
            if r:
                self._finish()
        return self.returncode

    def wait(self, timeout=None):
        if self.returncode is None:
            r, _, _ = select.select([_child_done_fd(self._child)], [], [], timeout)
            if not r:
                raise TimeoutExpired(self.args, timeout)
            self._finish()
        return self.returncode

    def communicate(self, input=None, timeout=None):
        """Send input, read stdout and stderr to their ends, wait; like subprocess's."""
        deadline = None if timeout is None else time.monotonic() + timeout
        out, err = [], []
        readers = {}
        sel = selectors.DefaultSelector()
        if self.stdin:
            data = input if input is not None else b""
            if self._text and isinstance(data, str):
                data = data.encode(self._encoding or "utf-8", self._errors or "strict")
            if data:
                os.set_blocking(self.stdin.fileno(), False)
                sel.register(self.stdin.fileno(), selectors.EVENT_WRITE)
                pending = memoryview(data)
            else:
                self.stdin.close()
        for f, buf in ((self.stdout, out), (self.stderr, err)):
            if f:
                fd = f.fileno()
                readers[fd] = buf
                sel.register(fd, selectors.EVENT_READ)
        while sel.get_map():
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise TimeoutExpired(self.args, timeout)
            for key, _ in sel.select(left):
                fd = key.fd
                if fd in readers:
                    chunk = os.read(fd, 65536)
                    if chunk:
                        readers[fd].append(chunk)
                    else:
                        sel.unregister(fd)
                else:
                    try:
                        n = os.write(fd, pending[:65536])
                        pending = pending[n:]
                    except BrokenPipeError:
                        pending = pending[:0]
                    if not pending:
                        sel.unregister(fd)
                        self.stdin.close()
        sel.close()
        try:
            self.wait(None if deadline is None else max(0, deadline - time.monotonic()))
        except TimeoutExpired:
            raise TimeoutExpired(self.args, timeout) from None
        results = []
        for f, buf in ((self.stdout, out), (self.stderr, err)):
            if f is None:
                results.append(None)
                continue
            data = b"".join(buf)
            f.close()
            if self._text:
                data = data.decode(self._encoding or "utf-8", self._errors or "strict")
                data = data.replace("\r\n", "\n")
            results.append(data)
        return tuple(results)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for f in (self.stdin, self.stdout, self.stderr):
            if f:
                try:
                    f.close()
                except OSError:
                    pass
        self.wait()

    def __del__(self):
        child, self._child = getattr(self, "_child", None), None
        if child:
            _child_free(child)  # stops a VM still running


def run(args, *, input=None, capture_output=False, timeout=None, check=False, **kwargs):
    """Run args in a fresh VM and wait; like subprocess.run (the VM ends at the timeout)."""
    if input is not None:
        if kwargs.get("stdin") is not None:
            raise ValueError("stdin and input arguments may not both be used")
        kwargs["stdin"] = PIPE
    if capture_output:
        if kwargs.get("stdout") is not None or kwargs.get("stderr") is not None:
            raise ValueError("stdout and stderr arguments may not be used with capture_output")
        kwargs["stdout"] = kwargs["stderr"] = PIPE
    with Popen(args, **kwargs) as p:
        try:
            out, err = p.communicate(input, timeout=timeout)
        except TimeoutExpired:
            p.stop()
            p.wait()
            raise
        except BaseException:
            p.stop()
            raise
    cp = CompletedProcess(p.args, p.returncode, out, err)
    cp.error = p.error
    cp.exit_status = p.exit_status
    if check and p.returncode:
        raise CalledProcessError(p.returncode, p.args, out, err)
    return cp


# ---------------------------------------------------------------- machines


def _machine_dict(m):
    return {"name": m.name.decode(), "pid": m.pid, "harts": m.harts, "vms": m.vms,
            "memory": m.memory, "free": m.free, "limit": m.limit, "committed": m.committed,
            "template": m.template_vm.decode() or None, "spares": m.spares,
            "spares_ready": m.spares_ready}


def machine_start(name, *, memory=None, harts=None, disks=(), kernel=None, initramfs=None,
                  qemu=None, hypervisor=None, spares=None, template=True):
    """Boot a machine in the background; returns once it is ready. spares: Linux VMs
    booted ahead, each taken by one run(..., machine=name) that asks for the defaults.
    template: True (the default: 256 MiB, 1 vCPU), False, or (memory, vcpus): the booted,
    paused Linux that run(..., machine=name) with those defaults forks instead of booting."""
    cfg = _mcfg_new(_b(name))
    if not cfg:
        raise VireoError(errno.EINVAL, _last_error().decode(errors="replace"))
    try:
        if memory is not None:
            _check(_mcfg_memory(cfg, _size(memory)))
        if harts is not None:
            _check(_mcfg_harts(cfg, harts))
        if spares is not None:
            _check(_mcfg_spares(cfg, spares))
        if template is False:
            _check(_mcfg_template(cfg, False, 0, 0))
        elif template is not True:
            _check(_mcfg_template(cfg, True, _size(template[0]), template[1]))
        for d in disks:
            path, ro = (d, False) if isinstance(d, (str, bytes, os.PathLike)) else d
            _check(_mcfg_disk(cfg, _b(path), bool(ro)))
        for what, path in (("kernel", kernel), ("initramfs", initramfs), ("qemu", qemu),
                           ("hypervisor", hypervisor)):
            if path is not None:
                _check(_mcfg_file(cfg, what.encode(), _b(path)))
        _check(_machine_start(cfg))
    finally:
        _mcfg_free(cfg)


def machine_stop(name):
    """End the machine and every VM in it."""
    _check(_machine_stop(_b(name)))


def machine_status(name):
    """A dict: name, pid, harts, vms, memory, free, limit, committed (bytes), template."""
    st = _MachineStatus()
    _check(_machine_status(_b(name), ctypes.byref(st)))
    return _machine_dict(st)


def machines():
    """Every running machine of this user, as machine_status() dicts."""
    lst, n = ctypes.POINTER(_MachineStatus)(), ctypes.c_size_t()
    _check(_machine_list(ctypes.byref(lst), ctypes.byref(n)))
    try:
        return [_machine_dict(lst[i]) for i in range(n.value)]
    finally:
        _libc_free(ctypes.cast(lst, _c))


def vm_create(machine, name, spec="", start=False):
    """A VM in the machine; spec: "memory=128M,vcpus=2,kernel=...", the keys of vireo run --vm."""
    _check(_vm_create(_b(machine), _b(name), _b(spec), start))


def vm_start(machine, name):
    _check(_vm_ops["start"](_b(machine), _b(name)))


def vm_stop(machine, name):
    _check(_vm_ops["stop"](_b(machine), _b(name)))


def vm_remove(machine, name):
    _check(_vm_ops["remove"](_b(machine), _b(name)))


def vm_pause(machine, name):
    _check(_vm_ops["pause"](_b(machine), _b(name)))


def vm_resume(machine, name):
    _check(_vm_ops["resume"](_b(machine), _b(name)))


def vm_gdb(machine, name, port=0):
    """A gdb server for the running VM, on 127.0.0.1: returns its port (port 0: any free one).
    It lasts until the VM ends or the machine stops."""
    got = ctypes.c_int()
    _check(_vm_gdb(_b(machine), _b(name), port, ctypes.byref(got)))
    return got.value


def vms(machine):
    """The machine's VMs: dicts name, id, state, origin, vcpus, memory, exit_status."""
    lst, n = ctypes.POINTER(_VmStatus)(), ctypes.c_size_t()
    _check(_vm_list(_b(machine), ctypes.byref(lst), ctypes.byref(n)))
    try:
        return [{"name": v.name.decode(), "id": v.id, "state": v.state.decode(),
                 "origin": v.origin.decode(), "vcpus": v.vcpus, "memory": v.memory,
                 "exit_status": None if v.exit_status < 0 else v.exit_status,
                 "agent": bool(v.agent)}
                for v in (lst[i] for i in range(n.value))]
    finally:
        _libc_free(ctypes.cast(lst, _c))


_THEN = {"resume": 0, "pause": 1, "stop": 2}


def vm_snapshot(machine, name, path, then="resume"):
    """Save the VM's whole state and RAM into the file path (docs/machine.md, "Snapshots
    and forks"); then it goes on ("resume"), stays paused ("pause") or ends ("stop")."""
    if then not in _THEN:
        raise ValueError("then is 'resume', 'pause' or 'stop'")
    _check(_vm_snapshot(_b(machine), _b(name), _b(os.path.abspath(path)), _THEN[then]))


def vm_restore(machine, name, path, start=False):
    """A new VM name from a snapshot file; a damaged or truncated file is refused
    (VireoError, with the file's name and the reason) and nothing is made."""
    _check(_vm_restore(_b(machine), _b(name), _b(path), start))


def vm_fork(machine, template, name, start=False, mem_limit=0):
    """A copy-on-write copy name of the paused VM template, which never runs again.
    mem_limit: bytes (or "64M") the fork may copy; 0: the default, 64 MiB."""
    _check(_vm_fork(_b(machine), _b(template), _b(name), start,
                    _size(mem_limit) if mem_limit else 0))


# Sandboxes (vireo/sandbox.py), on the helpers above.
from .sandbox import Sandbox, SandboxAborted  # noqa: E402
