/* libFuzzer target: netns_parse_link(), one RTM_NEWLINK message of a link dump.
 * The message is copied to a 4-byte aligned buffer, as netlink messages are in a receive buffer. */
#include "netns.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint32_t *buf = malloc(size + 4);
  if (!buf)
    return 0;
  memcpy(buf, data, size);
  netns_if_stats_t st;
  int rc = netns_parse_link(buf, size, &st);
  if (rc != 0 && rc != -ENOENT && rc != -EINVAL)
    abort();
  if (rc == 0 && (st.name[0] == '\0' || memchr(st.name, '\0', sizeof(st.name)) == NULL))
    abort();
  free(buf);
  return 0;
}
