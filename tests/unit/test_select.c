#include "select.h"

#include "testutil.h"

#include <errno.h>

static void test_empty(void) {
  select_list_t *l = select_create();
  CHECK(l != NULL);
  CHECK(select_matches(l, "eth0"));
  CHECK(select_matches(l, "lo"));
  select_set_invert(l, true); /* an empty list collects everything either way */
  CHECK(select_matches(l, "lo"));
  CHECK(select_matches(NULL, "lo"));
  CHECK_INT(select_count(l), 0);
  select_destroy(l);
  select_destroy(NULL);
}

static void test_literal(void) {
  select_list_t *l = select_create();
  CHECK_INT(select_add(l, "eth0"), 0);
  CHECK_INT(select_add(l, "veth1"), 0);
  CHECK_INT(select_count(l), 2);
  /* IgnoreSelected false: only the listed ones */
  CHECK(select_matches(l, "eth0"));
  CHECK(select_matches(l, "veth1"));
  CHECK(!select_matches(l, "eth01"));
  CHECK(!select_matches(l, "eth"));
  CHECK(!select_matches(l, "lo"));
  /* IgnoreSelected true: all but the listed ones */
  select_set_invert(l, true);
  CHECK(!select_matches(l, "eth0"));
  CHECK(!select_matches(l, "veth1"));
  CHECK(select_matches(l, "lo"));
  CHECK(select_matches(l, "eth01"));
  select_destroy(l);
}

static void test_default_lo(void) {
  /* What the glue adds when no Interface option is given. */
  select_list_t *l = select_create();
  CHECK_INT(select_add(l, "lo"), 0);
  select_set_invert(l, true);
  CHECK(!select_matches(l, "lo"));
  CHECK(select_matches(l, "eth0"));
  CHECK(select_matches(l, "lo0"));
  select_destroy(l);
}

static void test_regex(void) {
  select_list_t *l = select_create();
  CHECK_INT(select_add(l, "/^veth[0-9a-f]+$/"), 0);
  CHECK_INT(select_add(l, "/^(eth|ens)[0-9]+/"), 0);
  CHECK(select_matches(l, "vethab12"));
  CHECK(!select_matches(l, "vethxyz"));
  CHECK(select_matches(l, "eth0"));
  CHECK(select_matches(l, "ens3"));
  CHECK(select_matches(l, "ens33p1"));
  CHECK(!select_matches(l, "lo"));
  select_set_invert(l, true);
  CHECK(select_matches(l, "lo"));
  CHECK(!select_matches(l, "eth1"));
  select_destroy(l);

  /* Unanchored regex matches anywhere; a lone "/" and slashes inside are literals. */
  l = select_create();
  CHECK_INT(select_add(l, "/ker/"), 0);
  CHECK_INT(select_add(l, "/"), 0);
  CHECK_INT(select_add(l, "a/b"), 0);
  CHECK(select_matches(l, "docker0"));
  CHECK(select_matches(l, "/"));
  CHECK(select_matches(l, "a/b"));
  CHECK(!select_matches(l, "ab"));
  select_destroy(l);
}

static void test_errors(void) {
  select_list_t *l = select_create();
  CHECK_INT(select_add(l, "/([a-z/"), -EINVAL);
  CHECK(strstr(select_error(l), "bad regex") != NULL);
  CHECK(strstr(select_error(l), "([a-z") != NULL);
  CHECK_INT(select_count(l), 0);
  CHECK_INT(select_add(l, ""), -EINVAL);
  CHECK_STR(select_error(l), "empty pattern");
  CHECK_INT(select_add(l, "eth0"), 0);
  CHECK_STR(select_error(l), "");
  /* A failed add leaves the list as it was. */
  CHECK(select_matches(l, "eth0"));
  CHECK(!select_matches(l, "eth1"));
  select_destroy(l);
}

static void test_many(void) {
  select_list_t *l = select_create();
  char name[32];
  for (int i = 0; i < 100; i++) {
    snprintf(name, sizeof(name), "if%d", i);
    CHECK_INT(select_add(l, name), 0);
  }
  CHECK_INT(select_count(l), 100);
  CHECK(select_matches(l, "if0"));
  CHECK(select_matches(l, "if99"));
  CHECK(!select_matches(l, "if100"));
  select_destroy(l);
}

int main(void) {
  test_empty();
  test_literal();
  test_default_lo();
  test_regex();
  test_errors();
  test_many();
  return test_result("test_select");
}
