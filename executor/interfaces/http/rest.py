"""Entry point the control plane runs: `cd /app && exec gosu sandbox python -m executor.interfaces.http.rest`.

The executor is the Node server; this module only replaces itself with it. execv keeps the pid,
the environment and the signal disposition, so the control plane's SIGTERM reaches Node directly.
"""
import os
import shutil
import sys

# /app in the image; the checkout's root when run from a working tree.
APP_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
MAIN = os.path.join(APP_ROOT, "dist", "src", "cli", "main.js")


def main() -> None:
    node = shutil.which("node")
    if node is None:
        sys.exit("executor.interfaces.http.rest: node is not on PATH")
    if not os.path.isfile(MAIN):
        sys.exit(f"executor.interfaces.http.rest: {MAIN} is missing (run `npm run build`)")
    os.execv(node, [node, MAIN, "serve"])


if __name__ == "__main__":
    main()
