"""sandbox-executor's Python bootstrap: runs the user's module, then handler(event[, context]).

Usage: python3 bootstrap.py CODE_FILE EVENT_FILE CONTEXT_FILE
The return value goes to fd 3, which is first moved to a private close-on-exec descriptor, so
nothing the code prints can forge it and stdout stays exactly what the code wrote.
Channel format: b"return\\n" + JSON, or b"error\\n" + a one-line message.
"""
import os
import sys

_channel = os.fdopen(os.dup(3), "w", encoding="utf-8")  # os.dup: not inheritable
os.close(3)


def _send(kind, payload):
    _channel.write(kind + "\n" + payload)
    _channel.flush()


def _fail(message, show_traceback=None):
    if show_traceback is not None:
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


def _finite(value):
    """NaN and +-Infinity are not JSON: they become null, everywhere in the value."""
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


class Context:
    def __init__(self, fields):
        self.__dict__.update(fields)

    def __getitem__(self, key):
        return self.__dict__[key]

    def get(self, key, default=None):
        return self.__dict__.get(key, default)


def main():
    code_file, event_file, context_file = sys.argv[1:4]
    import json

    with open(event_file, encoding="utf-8") as f:
        event = json.load(f)
    with open(context_file, encoding="utf-8") as f:
        context = Context(json.load(f))
    with open(code_file, encoding="utf-8") as f:
        source = f.read()

    # user code imports from its workspace, not from this bootstrap's directory
    sys.path[0] = os.getcwd()
    sys.argv = [code_file]
    module = {"__name__": "__main__", "__file__": code_file, "__builtins__": __builtins__}
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
            import asyncio

            result = asyncio.run(result)
    except SystemExit as exit_request:
        _fail(_exit_message(exit_request))
    except BaseException as error:  # noqa: BLE001
        _fail("%s: %s" % (type(error).__name__, error), error)

    try:
        payload = json.dumps(_finite(result), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as error:
        _fail("the handler's return value is not JSON-serializable: %s" % (error,))
    sys.stdout.flush()
    sys.stderr.flush()
    _send("return", payload)


main()
