/* libFuzzer target: the taskstats reply parsers: taskstats_parse() (a TASKSTATS_TYPE_STATS
 * payload, with the versions a reply can carry), taskstats_parse_aggr() (a nested AGGR_PID /
 * AGGR_TGID attribute) and taskstats_parse_exit() (the attributes of an exit record).
 * Input: one byte choosing the version hint, then the payload. */
#include "taskstats.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check(const ts_stats_t *s) {
  if (s->present & ~((1u << 12) - 1))
    abort();
  for (int k = 0; k < TS_DELAY_COUNT; k++)
    if (!(s->present & TS_F_DELAY(k)) && s->delay_ns[k] != 0)
      abort(); /* an absent field must read 0, never garbage */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  uint16_t hint = data[0] % (TS_KNOWN_VERSION + 3);
  data++;
  size--;
  /* Attribute streams are 4-byte aligned in a netlink message: copy to an aligned buffer. */
  uint32_t *buf = malloc(size + 4);
  if (!buf)
    return 0;
  memcpy(buf, data, size);
  ts_stats_t s;
  int rc = taskstats_parse(buf, size, hint, &s);
  if (rc >= 0)
    check(&s);
  else if (rc != -EINVAL && rc != -EPROTONOSUPPORT)
    abort();
  uint32_t id;
  if (taskstats_parse_aggr(buf, size, hint, &id, &s) == 0)
    check(&s);
  ts_exit_record_t rec;
  if (taskstats_parse_exit(buf, size, &rec) == 0) {
    if (!rec.has_pid && !rec.has_tgid)
      abort();
    if (rec.has_pid)
      check(&rec.pid_stats);
    if (rec.has_tgid)
      check(&rec.tgid_stats);
  }
  for (int k = -1; k <= TS_DELAY_COUNT; k++)
    taskstats_delay_name(k);
  free(buf);
  return 0;
}
