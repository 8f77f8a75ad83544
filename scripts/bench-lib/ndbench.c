// ndbench: the peers scripts/bench uses around the tools it measures.
//
//   ndbench send --to ADDR --size N [--rate BITS] [--gso 0] (--file PATH | --bytes N | --seconds S)
//       One paced sender for every receiver under test: datagrams of N bytes, in
//       order, with sendmmsg on a connected socket, and UDP GSO (one send of up to
//       64 KiB cut into N-byte datagrams by the kernel) unless --gso 0. --rate
//       spreads them evenly in time (the next batch leaves when it is due; a batch
//       is what fell due while sleeping); without --rate it sends as fast as it can. --file
//       sends the file's bytes (mmap; the first --bytes of it if given), the
//       others a fixed pattern.
//       Prints: sent_bytes=B sent_datagrams=N errors=E seconds=T gso_segments=S
//   ndbench recv --listen ADDR [--rcvbuf BYTES] [--idle-ms MS] [--deadline S]
//       Counts datagrams (recvmmsg, 64 per call); exits when nothing came for
//       --idle-ms after the first datagram, at the deadline, or on SIGTERM.
//       Prints: datagrams=N bytes=B seconds=T kernel_drops=D  (T: first to last datagram)
//   ndbench tcprecv --connect ADDR --clients N [--idle-ms MS] [--deadline S]
//       N TCP connections read in one poll loop. Writes "connected N" to stderr once
//       all are up; exits like recv. Prints one line per client: client=I bytes=B,
//       then: clients=N total_bytes=B seconds=T
//
// ADDR is host:port or [v6]:port. Numbers take k/M/G suffixes (powers of 1000).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { kBatch = 64, kSlot = 65536, kMaxClients = 1024 };

static volatile sig_atomic_t stop_requested;
static void on_signal(int sig) { (void)sig; stop_requested = 1; }

static void die(const char *what) {
  fprintf(stderr, "ndbench: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void usage(const char *why) {
  fprintf(stderr, "ndbench: %s (see the comment at the top of ndbench.c)\n", why);
  exit(2);
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double number(const char *text) {
  char *end = NULL;
  double value = strtod(text, &end);
  if (end == text) usage("not a number");
  if (*end == 'k' || *end == 'K') value *= 1e3;
  else if (*end == 'M') value *= 1e6;
  else if (*end == 'G') value *= 1e9;
  return value;
}

// host:port or [v6]:port -> a resolved address.
static struct addrinfo *resolve(const char *text, int socktype) {
  char host[256];
  const char *colon = strrchr(text, ':');
  if (!colon || (size_t)(colon - text) >= sizeof host) usage("address must be host:port");
  size_t length = (size_t)(colon - text);
  memcpy(host, text, length);
  host[length] = 0;
  char *name = host;
  if (name[0] == '[' && length >= 2 && name[length - 1] == ']') {
    name[length - 1] = 0;
    ++name;
  }
  struct addrinfo hints = {.ai_socktype = socktype, .ai_flags = AI_NUMERICSERV};
  struct addrinfo *result = NULL;
  int rc = getaddrinfo(name, colon + 1, &hints, &result);
  if (rc != 0) {
    fprintf(stderr, "ndbench: resolve %s: %s\n", text, gai_strerror(rc));
    exit(1);
  }
  return result;
}

struct options {
  const char *to, *listen, *connect, *file;
  double size, rate, bytes, seconds, rcvbuf, idle_ms, deadline, clients, gso;
};

static struct options parse(int argc, char **argv) {
  struct options o = {.size = 8192, .gso = 1, .rcvbuf = 64 << 20, .idle_ms = 300, .deadline = 600, .clients = 1};
  for (int i = 2; i < argc; i += 2) {
    const char *key = argv[i];
    if (i + 1 >= argc) usage("option without a value");
    const char *value = argv[i + 1];
    if (!strcmp(key, "--to")) o.to = value;
    else if (!strcmp(key, "--listen")) o.listen = value;
    else if (!strcmp(key, "--connect")) o.connect = value;
    else if (!strcmp(key, "--file")) o.file = value;
    else if (!strcmp(key, "--size")) o.size = number(value);
    else if (!strcmp(key, "--rate")) o.rate = number(value);
    else if (!strcmp(key, "--bytes")) o.bytes = number(value);
    else if (!strcmp(key, "--seconds")) o.seconds = number(value);
    else if (!strcmp(key, "--rcvbuf")) o.rcvbuf = number(value);
    else if (!strcmp(key, "--idle-ms")) o.idle_ms = number(value);
    else if (!strcmp(key, "--deadline")) o.deadline = number(value);
    else if (!strcmp(key, "--clients")) o.clients = number(value);
    else if (!strcmp(key, "--gso")) o.gso = number(value);
    else usage("unknown option");
  }
  return o;
}

// ---- send ----------------------------------------------------------------

struct payload {
  const char *data;
  size_t length;  // 0: endless pattern, bounded by --bytes or --seconds
};

static struct payload load_payload(const struct options *o) {
  struct payload p = {0};
  if (o->file) {
    int fd = open(o->file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) die(o->file);
    struct stat st;
    if (fstat(fd, &st) != 0) die(o->file);
    p.length = (size_t)st.st_size;
    if (p.length == 0) usage("empty --file");
    p.data = mmap(NULL, p.length, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    if (p.data == MAP_FAILED) die("mmap");
    close(fd);
    return p;
  }
  char *pattern = malloc(kSlot);
  for (size_t i = 0; i < kSlot; ++i) pattern[i] = (char)('a' + i % 26);
  p.data = pattern;
  return p;
}

static int cmd_send(const struct options *o) {
  if (!o->to) usage("send needs --to");
  size_t size = (size_t)o->size;
  if (size == 0 || size > 65507) usage("--size must be 1..65507");
  struct payload p = load_payload(o);
  if (!p.length && o->bytes <= 0 && o->seconds <= 0) usage("send needs --file, --bytes or --seconds");
  uint64_t total = p.length ? p.length : UINT64_MAX;
  if (o->bytes > 0 && (uint64_t)o->bytes < total) total = (uint64_t)o->bytes;

  struct addrinfo *to = resolve(o->to, SOCK_DGRAM);
  int fd = socket(to->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  if (connect(fd, to->ai_addr, to->ai_addrlen) != 0) die("connect");
  prctl(PR_SET_TIMERSLACK, 1UL);  // wake up on time, not 50 us late
  // UDP GSO: one send carries up to `segments` datagrams, which the kernel
  // splits into ordinary datagrams of `size` bytes before any receiver sees
  // them. It only makes the sender cheaper, so the receivers meet higher rates.
  size_t segments = 1;
  if (o->gso && size * 2 <= 65507) {
    int gso_size = (int)size;
    if (setsockopt(fd, SOL_UDP, UDP_SEGMENT, &gso_size, sizeof gso_size) == 0) segments = 65507 / size;
    if (segments > 64) segments = 64;
  }

  struct mmsghdr messages[kBatch];
  struct iovec iov[kBatch];
  uint64_t sent = 0, datagrams = 0, errors = 0;
  double start = now();
  double bytes_per_second = o->rate / 8;
  while (sent < total && !stop_requested) {
    double t = now();
    if (o->seconds > 0 && t - start >= o->seconds) break;
    size_t due = kBatch * segments;
    if (bytes_per_second > 0) {
      double owed = (t - start) * bytes_per_second - (double)sent;
      if (owed < (double)size) {  // sleep until the next datagram is due
        double wake = start + ((double)sent + (double)size) / bytes_per_second;
        struct timespec ts = {(time_t)wake, (long)((wake - (double)(time_t)wake) * 1e9)};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        continue;
      }
      due = (size_t)(owed / (double)size);
      if (due > kBatch * segments) due = kBatch * segments;
    }
    // Messages of up to `segments` datagrams each, `due` datagrams in all.
    size_t count = 0;
    uint64_t offset = sent;
    while (due > 0 && offset < total && count < kBatch) {
      size_t n = due < segments ? due : segments;
      uint64_t length = (uint64_t)n * size;
      if (length > total - offset) length = total - offset;
      iov[count].iov_base = (void *)(p.length ? p.data + offset : p.data);
      iov[count].iov_len = (size_t)length;
      memset(&messages[count], 0, sizeof messages[count]);
      messages[count].msg_hdr.msg_iov = &iov[count];
      messages[count].msg_hdr.msg_iovlen = 1;
      offset += length;
      due -= n;
      ++count;
    }
    int n = sendmmsg(fd, messages, (unsigned)count, 0);
    if (n < 0) {
      if (errno == EINTR || errno == ENOBUFS || errno == EAGAIN) continue;
      if (errno != ECONNREFUSED) die("sendmmsg");
      // Nobody listening (yet): the message is counted as sent-and-lost, like a real sender would.
      ++errors;
      n = 1;
    }
    for (int i = 0; i < n; ++i) {
      sent += iov[i].iov_len;
      datagrams += (iov[i].iov_len + size - 1) / size;
    }
  }
  printf("sent_bytes=%llu sent_datagrams=%llu errors=%llu seconds=%.6f gso_segments=%zu\n", (unsigned long long)sent,
         (unsigned long long)datagrams, (unsigned long long)errors, now() - start, segments);
  return 0;
}

// ---- recv ----------------------------------------------------------------

static int cmd_recv(const struct options *o) {
  if (!o->listen) usage("recv needs --listen");
  struct addrinfo *at = resolve(o->listen, SOCK_DGRAM);
  int fd = socket(at->ai_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) die("socket");
  int value = (int)o->rcvbuf, one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &value, sizeof value) != 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &value, sizeof value);
  setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
  if (bind(fd, at->ai_addr, at->ai_addrlen) != 0) die("bind");
  fprintf(stderr, "listening on udp %s\n", o->listen);

  static char arena[kBatch][kSlot];
  static char control[kBatch][CMSG_SPACE(sizeof(uint32_t))];
  struct mmsghdr messages[kBatch];
  struct iovec iov[kBatch];
  uint64_t datagrams = 0, bytes = 0;
  uint32_t drops = 0;
  double first = 0, last = 0, begin = now();
  while (!stop_requested) {
    for (int i = 0; i < kBatch; ++i) {
      iov[i] = (struct iovec){arena[i], kSlot};
      memset(&messages[i], 0, sizeof messages[i]);
      messages[i].msg_hdr.msg_iov = &iov[i];
      messages[i].msg_hdr.msg_iovlen = 1;
      messages[i].msg_hdr.msg_control = control[i];
      messages[i].msg_hdr.msg_controllen = sizeof control[i];
    }
    int n = recvmmsg(fd, messages, kBatch, 0, NULL);
    if (n > 0) {
      last = now();
      if (!datagrams) first = last;
      for (int i = 0; i < n; ++i) {
        bytes += messages[i].msg_len;
        struct cmsghdr *c = CMSG_FIRSTHDR(&messages[i].msg_hdr);
        if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) memcpy(&drops, CMSG_DATA(c), 4);
      }
      datagrams += (uint64_t)n;
      continue;
    }
    if (errno != EAGAIN && errno != EINTR) die("recvmmsg");
    double t = now();
    if (t - begin > o->deadline) break;
    if (datagrams && (t - last) * 1000 >= o->idle_ms) break;
    struct pollfd ready = {fd, POLLIN, 0};
    poll(&ready, 1, 20);  // short, so the idle deadline is checked
  }
  printf("datagrams=%llu bytes=%llu seconds=%.6f kernel_drops=%u\n", (unsigned long long)datagrams,
         (unsigned long long)bytes, last - first, drops);
  return 0;
}

// ---- tcprecv -------------------------------------------------------------

static int cmd_tcprecv(const struct options *o) {
  if (!o->connect) usage("tcprecv needs --connect");
  int clients = (int)o->clients;
  if (clients < 1 || clients > kMaxClients) usage("--clients must be 1..1024");
  struct addrinfo *at = resolve(o->connect, SOCK_STREAM);
  static struct pollfd fds[kMaxClients];
  static uint64_t received[kMaxClients];
  for (int i = 0; i < clients; ++i) {
    fds[i].fd = socket(at->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fds[i].fd < 0) die("socket");
    if (connect(fds[i].fd, at->ai_addr, at->ai_addrlen) != 0) die("connect");
    fcntl(fds[i].fd, F_SETFL, O_NONBLOCK);
    fds[i].events = POLLIN;
  }
  fprintf(stderr, "connected %d\n", clients);
  static char buffer[1 << 18];
  uint64_t total = 0;
  double first = 0, last = 0, begin = now();
  int open_count = clients;
  while (!stop_requested && open_count > 0) {
    int rc = poll(fds, (nfds_t)clients, 20);
    if (rc < 0 && errno != EINTR) die("poll");
    double t = now();
    for (int i = 0; i < clients && rc > 0; ++i) {
      if (!fds[i].revents) continue;
      ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        if (!total) first = t;
        last = t;
        received[i] += (uint64_t)n;
        total += (uint64_t)n;
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        fds[i].fd = -fds[i].fd - 1;  // closed by the peer: stop polling it
        --open_count;
      }
    }
    if (t - begin > o->deadline) break;
    if (total && (t - last) * 1000 >= o->idle_ms) break;
  }
  for (int i = 0; i < clients; ++i) printf("client=%d bytes=%llu\n", i, (unsigned long long)received[i]);
  printf("clients=%d total_bytes=%llu seconds=%.6f\n", clients, (unsigned long long)total, last - first);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) usage("expected send, recv or tcprecv");
  struct sigaction action = {.sa_handler = on_signal};
  sigaction(SIGINT, &action, NULL);
  sigaction(SIGTERM, &action, NULL);
  setvbuf(stdout, NULL, _IOLBF, 0);
  struct options o = parse(argc, argv);
  if (!strcmp(argv[1], "send")) return cmd_send(&o);
  if (!strcmp(argv[1], "recv")) return cmd_recv(&o);
  if (!strcmp(argv[1], "tcprecv")) return cmd_tcprecv(&o);
  usage("expected send, recv or tcprecv");
}
