"""sandbox-executor's Python bootstrap: runs the user's module, then handler(event[, context]).

Usage: python3 -S bootstrap.pyc [--site-dir DIR]... [--primed] CODE_FILE EVENT_FILE CONTEXT_FILE
(the server runs this file compiled, and asks the interpreter once which directories python's site
module adds: src/runtimes/python-preparation.ts; with -S python skips site's start-up)
--site-dir: such a directory; the bootstrap appends them to sys.path in site's order.
--primed: started before the execution was known (a warm sandbox's runtime); wait on fd 4 for the
execution's environment, NUL-terminated NAME=value entries until EOF, before reading the input.
The return value goes to fd 3, which is first moved to a private close-on-exec descriptor, so
nothing the code prints can forge it and stdout stays exactly what the code wrote.
Channel format: b"return\\n" + JSON, or b"error\\n" + a one-line message.

The workspace is first on sys.path while user code runs, and an earlier execution of the session
may have left a json.py, traceback.py, asyncio.py... there. Importing those eagerly would cost more
than python's whole start-up (asyncio alone ~70 ms of CPU here), so the bootstrap imports them only
when needed, and always on the interpreter's own path as it was at start-up (_interpreter_imports):
no module of the workspace ever runs inside the bootstrap's encoding, error report or event loop.
"""
import builtins
import codecs
import gc
import os
import sys

while sys.argv[1:2] == ["--site-dir"]:
    sys.path.append(sys.argv[2])
    del sys.argv[1:3]
if sys.flags.no_site:
    import _sitebuiltins  # what site defines them with (a frozen module since 3.11: no file read)

    builtins.exit = _sitebuiltins.Quitter("exit", "Ctrl-D (i.e. EOF)")
    builtins.quit = _sitebuiltins.Quitter("quit", "Ctrl-D (i.e. EOF)")
    builtins.help = _sitebuiltins._Helper()

_INTERPRETER_PATH = list(sys.path)  # before the workspace is added


class _interpreter_imports:
    """Imports inside resolve on _INTERPRETER_PATH, never on the workspace."""

    def __enter__(self):
        self._user_path = sys.path
        sys.path = list(_INTERPRETER_PATH)

    def __exit__(self, *_exc):
        sys.path = self._user_path


def _await_release(release_fd=4):
    chunks = []
    while True:
        chunk = os.read(release_fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(release_fd)
    for entry in b"".join(chunks).split(b"\0"):
        name, separator, value = entry.partition(b"=")
        if separator:
            os.environb[name] = value


if sys.argv[1:2] == ["--primed"]:
    del sys.argv[1]
    # the compiler's first run builds its state: 1.1-1.6 ms here, paid before the execution is
    # known rather than by reading its two-byte event
    compile("{}", "<primed>", "eval")
    _await_release()

# The bootstrap's objects and the modules' go out of the cyclic collector's reach, so that its
# last collection at exit skips them (1.2 ms here); user code's objects are collected and
# finalized as before.
gc.freeze()


def _escape_lone_surrogates(error):
    # A str may hold a lone surrogate ("\ud800", from an event or the code), which has no UTF-8
    # form; in the channel it can only be inside a JSON string (or the error's message), where
    # its \u escape is what JSON means by it.
    return "".join("\\u%04x" % ord(c) for c in error.object[error.start : error.end]), error.end


codecs.register_error("sandbox_executor.escape_lone_surrogates", _escape_lone_surrogates)
# os.dup: not inheritable
_channel = os.fdopen(os.dup(3), "w", encoding="utf-8", errors="sandbox_executor.escape_lone_surrogates")
os.close(3)


def _send(kind, payload):
    _channel.write(kind + "\n" + payload)
    _channel.flush()


def _fail(message, show_traceback=None):
    if show_traceback is not None:
        # formatting imports more (ast, for the carets): all of it on the interpreter's path
        with _interpreter_imports():
            import traceback

            # drop the bootstrap's own frame: the user sees their code only
            traceback.print_exception(type(show_traceback), show_traceback, show_traceback.__traceback__.tb_next)
    sys.stderr.write("sandbox-executor: " + message + "\n")
    sys.stderr.flush()
    _send("error", message)
    sys.stdout.flush()
    os._exit(1)


def _exit_message(exit_request):
    return "sys.exit(%r) was called in user code: return a value from handler(event) instead" % (exit_request.code,)


# `import json` costs ~16 ms inside a sandbox here (it pulls in re, enum, functools...), close to
# python's whole start-up: the plain values a handler usually returns are encoded here, the event
# is read with eval (below), and json is imported only for anything else.
_ESCAPES = {ord('"'): '\\"', ord("\\"): "\\\\", **{code: "\\u%04x" % code for code in range(32)}}


class _NotPlain(Exception):
    """A value the fast encoder leaves to json (subclasses, other types)."""


def _encode(value, out):
    kind = type(value)
    if kind is str:
        out.append('"' + value.translate(_ESCAPES) + '"')
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif kind is int:
        out.append(str(value))
    elif kind is float:
        # NaN and +-Infinity are not JSON: they become null
        out.append(repr(value) if value == value and value not in (float("inf"), float("-inf")) else "null")
    elif kind is list or kind is tuple:
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode(item, out)
        out.append("]")
    elif kind is dict:
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            if type(key) is not str:
                raise _NotPlain()
            out.append(("," if i else "") + '"' + key.translate(_ESCAPES) + '":')
            _encode(item, out)
        out.append("}")
    else:
        raise _NotPlain()


def _finite(value):
    """NaN and +-Infinity become null everywhere (for the json fallback)."""
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


class _recursion_room:
    """A recursion limit with room for the 1000 levels an event may nest, for one json call."""

    def __enter__(self):
        self._limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(self._limit, 5000))

    def __exit__(self, *_exc):
        sys.setrecursionlimit(self._limit)


def _to_json(value):
    out = []
    try:
        _encode(value, out)
        return "".join(out)
    except (_NotPlain, RecursionError):  # RecursionError: very deep, or circular (json says which)
        with _interpreter_imports():
            import json

        # room for what the server lets an event be (1000 levels), so a handler may return it
        with _recursion_room():
            return json.dumps(_finite(value), ensure_ascii=False, allow_nan=False)


def _read_json(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        # The executor wrote this file with JSON.stringify: a JSON text is a Python literal once
        # true/false/null are names. No builtins are reachable from it.
        return eval(compile(text, path, "eval"), {"__builtins__": {}, "true": True, "false": False, "null": None})
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        import json  # very deep or unusual documents (user code has not run yet: no workspace path)

        # the server lets an event nest 1000 levels (MAX_EVENT_DEPTH), about what json reads
        # under the default recursion limit
        with _recursion_room():
            return json.loads(text)


class Context:
    def __init__(self, fields):
        self.__dict__.update(fields)

    def __getitem__(self, key):
        return self.__dict__[key]

    def get(self, key, default=None):
        return self.__dict__.get(key, default)


# pickle finds a class by its module and name, and __main__ is the user's: the context's class
# lives in a module of its own, so a context can be pickled (to a forked worker, for one)
_context_module = type(sys)("sandbox_executor_context")
_context_module.Context = Context
Context.__module__ = _context_module.__name__
sys.modules[_context_module.__name__] = _context_module


def main():
    code_file, event_file, context_file = sys.argv[1:4]
    event = _read_json(event_file)
    context = Context(_read_json(context_file))
    with open(code_file, encoding="utf-8") as f:
        source = f.read()

    # user code imports from its workspace, not from this bootstrap's directory
    sys.path[0] = os.getcwd()
    sys.argv = [code_file]
    # The user's module is __main__, as in a plain script: `import __main__` and pickle find what
    # it defines, and python's exit clears it after threads and atexit handlers, dropping its
    # globals one by one, so a file the code never closed is flushed. (A dict of our own was
    # collected as a cycle through its functions, in no order: such a file's buffer was lost.)
    main_module = type(sys)("__main__")
    sys.modules["__main__"] = main_module
    module = main_module.__dict__
    module.update({"__file__": code_file, "__builtins__": __builtins__})
    try:
        compiled = compile(source, code_file, "exec")
    except SyntaxError as error:
        _fail("syntax error in user code: %s (line %s)" % (error.msg, error.lineno), error)
    try:
        exec(compiled, module)
    except SystemExit as exit_request:
        _fail(_exit_message(exit_request))
    except BaseException as error:  # noqa: BLE001 - anything the module raised is the user's failure
        _fail("%s: %s" % (type(error).__name__, error), error)

    handler = module.get("handler")
    if not callable(handler):
        _fail("no handler found: define a function handler(event) (or handler(event, context)) in your code")
    code = getattr(handler, "__code__", None)
    takes_context = code is not None and (code.co_argcount - (1 if hasattr(handler, "__self__") else 0)) >= 2
    try:
        result = handler(event, context) if takes_context else handler(event)
        if code is not None and code.co_flags & 0x180:  # CO_COROUTINE | CO_ITERABLE_COROUTINE
            with _interpreter_imports():
                import asyncio  # and all it imports (inspect, types...): the loop runs user code, not imports

            result = asyncio.run(result)
    except SystemExit as exit_request:
        _fail(_exit_message(exit_request))
    except BaseException as error:  # noqa: BLE001
        _fail("%s: %s" % (type(error).__name__, error), error)

    try:
        payload = _to_json(result)
    except (TypeError, ValueError, RecursionError) as error:
        _fail("the handler's return value is not JSON-serializable: %s" % (error,))
    sys.stdout.flush()
    sys.stderr.flush()
    _send("return", payload)


main()
