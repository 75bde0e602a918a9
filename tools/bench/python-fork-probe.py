# What a Python fork server (a "zygote") would cost per execution, against the interpreter start
# it would replace, measured side by side in one run (docs/benchmarks.md, "A Python fork server").
#
# The fork path is what an execution forked from a warmed interpreter must do before and while
# running the user's code: fork from the warmed process; new mount, pid, IPC, UTS and cgroup
# namespaces (a fork inherits the server's); a second fork to be pid 1 in the new pid namespace; a
# private mount tree and a /proc of its own; no capabilities, no_new_privs and a seccomp program of
# the executor's length; then compile and run `return 1`. The start path is a fresh interpreter
# with the runtime's flags running the same code, started as the executor starts it (a vfork-like
# spawn: no copy of this process's page tables). The sandbox's namespaces are counted on the fork
# path only: the executor makes them today too, before the interpreter starts, so start + that
# sandbox creation is what the fork path replaces. Neither side includes what both would keep (the
# user namespace, the uid inside, rlimits, the workspace's mounts, the result's plumbing,
# sandbox-init's supervision).
#
# It needs CAP_SYS_ADMIN over its namespaces, which a user namespace of its own gives:
#   unshare --user --map-root-user --mount --pid --fork --kill-child --mount-proc \
#     /usr/bin/python3 -s -B -S tools/bench/python-fork-probe.py [RUNS]
# and prints one JSON object: per path, the medians and p99 of wall time, of CPU (the children's
# rusage) and of minor page faults; `fork_until_<step>` are the fork path stopped after a step
# (fork, namespaces, restrictions), which says what each step costs; `*_import_json` run code that
# imports json, which the zygote holds imported and a fresh interpreter must import.
import ctypes
import gc
import json  # held imported before any fork, as a zygote could for user code (CODE_JSON)
import os
import resource
import struct
import sys
import time

CODE = "def handler(event):\n    return 1\nresult = handler({})"
# user code that imports a module of the standard library, which a zygote would hold imported
CODE_JSON = "import json\ndef handler(event):\n    return json.loads(json.dumps(1))\nresult = handler({})"
WARMUP = 5

libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]
libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWIPC = 0x00020000, 0x20000000, 0x08000000
CLONE_NEWUTS, CLONE_NEWCGROUP = 0x04000000, 0x02000000
EXECUTION_NAMESPACES = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 16384, 1 << 18
PR_CAPBSET_DROP, PR_SET_SECCOMP, PR_SET_NO_NEW_PRIVS = 24, 22, 38
SECCOMP_MODE_FILTER = 2
LINUX_CAPABILITY_VERSION_3 = 0x20080522


class CapabilityHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class CapabilitySet(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


class SeccompProgram(ctypes.Structure):
    _fields_ = [("length", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def seccomp_program(instructions):
    """A program as long as the executor's: load the syscall number, compares that never match, allow.

    What it stands for is the cost of installing it: it reads no argument, so from Linux 5.11 the
    kernel's seccomp cache answers every later syscall without running it (the executor's filter
    inspects some arguments and runs for those syscalls).
    """
    load, compare, ret = 0x20, 0x15, 0x06
    code = [struct.pack("HBBI", load, 0, 0, 0)]
    code += [struct.pack("HBBI", compare, 0, 0, 100_000 + i) for i in range(instructions - 2)]
    code += [struct.pack("HBBI", ret, 0, 0, 0x7FFF0000)]
    buffer = ctypes.create_string_buffer(b"".join(code))
    return buffer, SeccompProgram(len(code), ctypes.cast(buffer, ctypes.c_void_p))


# made before any fork, as a zygote would: the child only uses them
PROGRAM_BUFFER, PROGRAM = seccomp_program(215)
NO_CAPABILITIES = (CapabilitySet * 2)()
HEADER = CapabilityHeader(LINUX_CAPABILITY_VERSION_3, 0)


def must(result, what):
    if result != 0:
        os.write(2, f"python-fork-probe: {what}: {os.strerror(ctypes.get_errno())}\n".encode())
        os._exit(100)


# the fork path's steps in order; a run up to a step ends there (the stages of the report)
STEPS = ("fork", "namespaces", "restrictions", "code")


def execution(last_step, code, verify):
    """In the forked child: the execution's own namespaces and restrictions, then the code.

    verify: check from inside what the child claims (the warm-up runs do; the measured ones skip
    the reads it takes).
    """
    if last_step == "fork":
        os._exit(0)
    must(libc.unshare(EXECUTION_NAMESPACES), "unshare")
    if os.fork():
        _, status = os.wait()
        os._exit(os.waitstatus_to_exitcode(status))
    must(libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")
    must(libc.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None), "mount /proc")
    if last_step == "namespaces":
        os._exit(0 if not verify or os.getpid() == 1 else 101)
    capability = 0
    while libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) == 0:
        capability += 1
    must(libc.capset(ctypes.byref(HEADER), NO_CAPABILITIES), "capset")
    must(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    must(libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(PROGRAM), 0, 0), "seccomp")
    if last_step == "restrictions":
        os._exit(0)
    namespace = {}
    exec(compile(code, "<execution>", "exec"), namespace)
    if not verify:
        os._exit(0)
    # what it claims: pid 1 of its own namespace, seccomp in force, no capability left at all
    status = open("/proc/self/status").read()
    held = os.getpid() == 1 and "\nSeccomp:\t2\n" in status
    held = held and all(f"\n{field}:\t0000000000000000\n" in status for field in ("CapEff", "CapPrm", "CapBnd"))
    os._exit(0 if held and namespace["result"] == 1 else 101)


def forked(last_step, code=CODE):
    def run(verify):
        if os.fork() == 0:
            execution(last_step, code, verify)
        _, status = os.wait()
        return status

    run.__name__ = f"the fork path up to {last_step}"
    return run


def started(code=CODE):
    def run(verify):
        # glibc's posix_spawn is a vfork (CLONE_VM): the executor's clone does not copy the server either
        pid = os.posix_spawn(sys.executable, [sys.executable, "-s", "-B", "-S", "-c", code], os.environ)
        _, status = os.waitpid(pid, 0)
        return status

    run.__name__ = "the interpreter's start"
    return run


def measure(run, verify):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    status = run(verify)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if status != 0:
        raise SystemExit(f"python-fork-probe: {run.__name__} ended with status {status:#x}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall * 1000, cpu * 1000, after.ru_minflt - before.ru_minflt


def summary(values):
    ordered = sorted(values)
    return {"p50": round(ordered[len(ordered) // 2], 3), "p99": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 3)}


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    gc.freeze()  # a zygote would: the children's collections then leave the server's objects alone
    paths = {"fork": forked("code"), "start": started(), "fork_import_json": forked("code", CODE_JSON), "start_import_json": started(CODE_JSON)}
    paths.update({f"fork_until_{step}": forked(step) for step in STEPS[:-1]})
    samples = {name: [] for name in paths}
    for i in range(WARMUP + runs):  # interleaved, so every path sees the same machine
        for name, run in paths.items():
            sample = measure(run, verify=i < WARMUP)
            if i >= WARMUP:
                samples[name].append(sample)
    report = {"runs": runs, "python": sys.version.split()[0]}
    for name, rows in samples.items():
        report[name] = {
            "wall_ms": summary([r[0] for r in rows]),
            "cpu_ms": summary([r[1] for r in rows]),
            "minor_faults": summary([r[2] for r in rows]),
        }
    print(json.dumps(report))


main()
