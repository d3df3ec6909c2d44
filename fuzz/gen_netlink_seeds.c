/* Seed generator for fuzz_netns_link: dumps this host's links (RTM_GETLINK) over a raw
 * NETLINK_ROUTE socket and writes every RTM_NEWLINK message, as the kernel sent it, to
 * OUTDIR/link-N. Not a fuzz target; fuzz/make-corpus.sh runs it. */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
    return 2;
  }
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) {
    perror("socket");
    return 1;
  }
  struct {
    struct nlmsghdr nh;
    struct ifinfomsg ifi;
  } req = {.nh = {.nlmsg_len = sizeof(req),
                  .nlmsg_type = RTM_GETLINK,
                  .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
                  .nlmsg_seq = 1},
           .ifi = {.ifi_family = AF_UNSPEC}};
  if (send(fd, &req, sizeof(req), 0) < 0) {
    perror("send");
    return 1;
  }
  static char buf[1 << 16] __attribute__((aligned(4)));
  int n_out = 0;
  for (;;) {
    ssize_t len = recv(fd, buf, sizeof(buf), 0);
    if (len <= 0)
      break;
    int rem = (int)len;
    for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, rem);
         nh = NLMSG_NEXT(nh, rem)) {
      if (nh->nlmsg_type == NLMSG_DONE || nh->nlmsg_type == NLMSG_ERROR)
        goto done;
      if (nh->nlmsg_type != RTM_NEWLINK)
        continue;
      char path[4096];
      snprintf(path, sizeof(path), "%s/link-%d", argv[1], n_out++);
      FILE *f = fopen(path, "wb");
      if (!f || fwrite(nh, 1, nh->nlmsg_len, f) != nh->nlmsg_len) {
        perror(path);
        return 1;
      }
      fclose(f);
    }
  }
done:
  close(fd);
  printf("%d link messages\n", n_out);
  return n_out > 0 ? 0 : 1;
}
