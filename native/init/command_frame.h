/* The frame that hands a warm sandbox its command on CONTROL_FD, as the executor writes it
 * (src/sandbox/warm-sandbox.ts, encodeCommand):
 *   u32 length (little endian), then `length` bytes of NUL-terminated fields:
 *   cpu_soft, cpu_hard, cwd, argc, argv[0..argc), envc, env[0..envc)
 * Parsing is kept apart from reading and applying it so that a unit test can run this exact code
 * against the executor's encoder (test/unit/command-frame.test.ts). */
#ifndef SANDBOX_COMMAND_FRAME_H
#define SANDBOX_COMMAND_FRAME_H

#include <stddef.h>
#include <stdint.h>

/* Frames beyond this are refused; the executor sends at most 60 KiB (the pipe's buffer). */
#define COMMAND_FRAME_MAX_BYTES (16u << 20)

struct command_frame {
  unsigned long long cpu_soft;
  unsigned long long cpu_hard;
  const char *cwd;
  char **argv; /* NULL-terminated; argv[0] == NULL: release the primed runtime */
  char **envp; /* NULL-terminated */
};

/* The payload length from the frame's 4-byte header. */
uint32_t command_frame_length(const unsigned char header[4]);

/* Parses `length` bytes in place (the strings point into `payload`; argv and envp are
 * allocated). Returns NULL, or what is wrong with the frame. */
const char *command_frame_parse(char *payload, size_t length, struct command_frame *out);

#endif
