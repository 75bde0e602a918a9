# sandbox-executor's shell bootstrap: the event is in $EVENT_JSON (read from a file, so its size is
# not bound by the kernel's argument limits), then the user's code runs in this same bash.
# Usage: bash bootstrap.sh [--primed] CODE_FILE EVENT_FILE
# --primed: started before the execution was known (a warm sandbox's runtime); wait on fd 4 for the
# execution's environment, NUL-terminated NAME=value entries until EOF, before reading the input.
if [[ $1 == --primed ]]; then
  shift
  while IFS= read -r -d '' __sandbox_entry; do export "$__sandbox_entry"; done <&4
  exec 4<&-
  unset __sandbox_entry
fi
__sandbox_code=$1
EVENT_JSON=$(<"$2")
# One environment string is at most 128 KiB (MAX_ARG_STRLEN): exporting a larger EVENT_JSON would
# make every program the code starts fail with E2BIG. Such an event stays a shell variable (the
# code still reads $EVENT_JSON); programs it starts read the file named by $EVENT_FILE.
__sandbox_event_bytes() { local LC_ALL=C; __sandbox_n=$(( ${#EVENT_JSON} + 12 )); }
__sandbox_event_bytes
if (( __sandbox_n < 131072 )); then export EVENT_JSON; fi
unset -f __sandbox_event_bytes
unset __sandbox_n
export EVENT_FILE=$2
set --
. "$__sandbox_code"
