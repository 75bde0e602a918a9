# sandbox-executor's shell bootstrap: the event is in $EVENT_JSON (read from a file, so its size is
# not bound by the kernel's argument limits), then the user's code runs in this same bash.
# Usage: bash bootstrap.sh CODE_FILE EVENT_FILE
__sandbox_code=$1
EVENT_JSON=$(<"$2")
export EVENT_JSON
# large events: programs started from the code get E2BIG with a huge variable; the file always works
export EVENT_FILE=$2
set --
. "$__sandbox_code"
