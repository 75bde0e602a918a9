/* Parsing of a warm sandbox's command frame (command_frame.h). No I/O, no exit: the caller
 * decides what a malformed frame costs. */
#include "command_frame.h"

#include <stdlib.h>
#include <string.h>

uint32_t command_frame_length(const unsigned char header[4]) {
  return (uint32_t)header[0] | (uint32_t)header[1] << 8 | (uint32_t)header[2] << 16 | (uint32_t)header[3] << 24;
}

/* The next NUL-terminated field, or NULL when the payload ends without one. */
static char *next_field(char **cursor, const char *end) {
  char *field = *cursor;
  char *nul = memchr(field, '\0', (size_t)(end - field));
  if (nul == NULL) return NULL;
  *cursor = nul + 1;
  return field;
}

/* A decimal count of fields, no more than the bytes left could hold (each takes one at least). */
static int parse_count(const char *text, const char *cursor, const char *end, unsigned long *count) {
  char *stop = NULL;
  if (*text < '0' || *text > '9') return 0;
  *count = strtoul(text, &stop, 10);
  return *stop == '\0' && *count <= (unsigned long)(end - cursor);
}

static int parse_number(const char *text, unsigned long long *value) {
  char *stop = NULL;
  if (*text < '0' || *text > '9') return 0;
  *value = strtoull(text, &stop, 10);
  return *stop == '\0';
}

const char *command_frame_parse(char *payload, size_t length, struct command_frame *out) {
  char *cursor = payload;
  const char *end = payload + length;
  const char *soft = next_field(&cursor, end);
  const char *hard = soft ? next_field(&cursor, end) : NULL;
  if (!soft || !hard || !parse_number(soft, &out->cpu_soft) || !parse_number(hard, &out->cpu_hard))
    return "malformed command: cpu limits";
  out->cwd = next_field(&cursor, end);
  if (out->cwd == NULL) return "malformed command: cwd";
  for (int list = 0; list < 2; list++) {
    const char *what = list == 0 ? "malformed command: argv" : "malformed command: env";
    const char *count_text = next_field(&cursor, end);
    unsigned long count = 0;
    if (count_text == NULL || !parse_count(count_text, cursor, end, &count)) return what;
    char **items = calloc(count + 1, sizeof(char *));
    if (items == NULL) return "out of memory";
    for (unsigned long i = 0; i < count; i++) {
      items[i] = next_field(&cursor, end);
      if (items[i] == NULL) {
        free(items);
        return what;
      }
    }
    if (list == 0)
      out->argv = items;
    else
      out->envp = items;
  }
  if (cursor != end) return "malformed command: bytes after the environment";
  return NULL;
}
