/*
 * weir-loadgen: the bench's load generator for the most a target can serve.
 *
 * Why C: on a 2-core machine autocannon's own JavaScript takes most of a core, which caps every
 * target near the same throughput and hides the gap between them (issue 15). This program costs a
 * few microseconds of CPU per request: one thread, epoll, requests sent as prepared bytes.
 *
 * What it does: sends the same HTTP/1.1 request (the bytes of --request-file, written whole by the
 * bench: request line, headers, body) over keep-alive connections, one connection per request in
 * flight, and reads each response to its end (Content-Length, chunked, or close).
 *   closed loop (default): --connections C connections, each sends its next request as soon as its
 *     answer ended, for --duration S seconds or until --requests N were sent;
 *   open loop (--rate R): sends are planned every 1/R s from the start and latency counts from the
 *     planned time (no coordinated omission); a send takes an idle connection or opens one, up to
 *     --connections (then it waits, and the wait is in its latency).
 * When the time is up no new request is sent and those in flight are waited for (up to --timeout):
 * every request sent is answered or counted as an error, so `sent` is exact.
 *
 * Output: one JSON object on stdout. Latency: a log-linear histogram (128 sub-buckets per power of
 * two of nanoseconds, < 0.8 % error), bounded memory whatever the run's length.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SUB_BITS 7
#define SUB (1 << SUB_BITS)
#define OCTAVES 44
#define BUCKETS (OCTAVES * SUB)
#define READ_BUF 65536
#define MAX_CONNS 65536

static uint64_t hist[BUCKETS];
static uint64_t hist_count, hist_max;
static double hist_sum;

static int bucket_of(uint64_t ns) {
  if (ns < SUB) return (int)ns;
  int msb = 63 - __builtin_clzll(ns);
  int shift = msb - SUB_BITS;
  int b = (shift + 1) * SUB + (int)((ns >> shift) - SUB);
  return b < BUCKETS ? b : BUCKETS - 1;
}

/* The highest value bucket b holds (a percentile is reported as its bucket's upper bound). */
static uint64_t bucket_top(int b) {
  if (b < SUB) return (uint64_t)b;
  int shift = b / SUB - 1;
  uint64_t base = (uint64_t)(SUB + b % SUB) << shift;
  return base + ((1ull << shift) - 1);
}

static void record(uint64_t ns) {
  hist[bucket_of(ns)]++;
  hist_count++;
  hist_sum += (double)ns;
  if (ns > hist_max) hist_max = ns;
}

static double percentile_ms(double p) {
  if (hist_count == 0) return 0;
  uint64_t want = (uint64_t)(p / 100.0 * (double)hist_count + 0.5);
  if (want < 1) want = 1;
  uint64_t seen = 0;
  for (int b = 0; b < BUCKETS; b++) {
    seen += hist[b];
    if (seen >= want) {
      uint64_t top = bucket_top(b);
      return (double)(top < hist_max ? top : hist_max) / 1e6;
    }
  }
  return (double)hist_max / 1e6;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Response parser states. */
enum { P_HEAD, P_BODY_LEN, P_CHUNK_SIZE, P_CHUNK_DATA, P_CHUNK_CRLF, P_TRAILER, P_BODY_CLOSE };

struct conn {
  int fd;
  int busy;          /* a request is in flight */
  int connecting;    /* connect() not yet finished */
  size_t wrote;      /* bytes of the request written */
  uint64_t start_ns; /* when the request was planned (open loop) or sent (closed loop) */
  int state;
  int status;
  int close_after;   /* Connection: close, or a body that ends with the connection */
  uint64_t left;     /* body or chunk bytes still to read */
  char head[8192];   /* the response head so far (status line and headers) */
  size_t head_len;
  int idle_next;     /* free list of idle connections (open loop) */
};

static struct conn *conns;
static int nconns;
static int epfd;
static struct sockaddr_storage addr;
static socklen_t addr_len;
static char *req;
static size_t req_len;

static uint64_t sent, completed, errors, non2xx, timeouts, connects;
static uint64_t status_counts[600];
static char first_error[160];

static void note_error(const char *what) {
  errors++;
  if (!first_error[0]) snprintf(first_error, sizeof first_error, "%s", what);
}

static void die(const char *msg) {
  fprintf(stderr, "weir-loadgen: %s\n", msg);
  exit(2);
}

static int open_conn(struct conn *c) {
  int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  int r = connect(fd, (struct sockaddr *)&addr, addr_len);
  if (r < 0 && errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  c->fd = fd;
  c->connecting = r < 0;
  c->busy = 0;
  connects++;
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP, .data.ptr = c};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl failed");
  return 0;
}

static void close_conn(struct conn *c) {
  if (c->fd >= 0) {
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
  }
  c->fd = -1;
  c->busy = 0;
  c->connecting = 0;
}

static void want_write(struct conn *c, int on) {
  struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | (on ? EPOLLOUT : 0), .data.ptr = c};
  epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Writes what is left of the request; -1 on a write error. */
static int flush_request(struct conn *c) {
  while (c->wrote < req_len) {
    ssize_t n = send(c->fd, req + c->wrote, req_len - c->wrote, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN) {
        want_write(c, 1);
        return 0;
      }
      return -1;
    }
    c->wrote += (size_t)n;
  }
  want_write(c, 0);
  return 0;
}

static void start_request(struct conn *c, uint64_t planned) {
  c->busy = 1;
  c->wrote = 0;
  c->start_ns = planned;
  c->state = P_HEAD;
  c->head_len = 0;
  c->status = 0;
  c->close_after = 0;
  sent++;
  if (!c->connecting && flush_request(c) < 0) {
    note_error("write failed");
    close_conn(c);
  }
}

static int header_is(const char *line, size_t len, const char *name) {
  size_t n = strlen(name);
  return len > n && strncasecmp(line, name, n) == 0 && line[n] == ':';
}

/* Reads the status and the framing headers once the head is complete; -1 if it is not HTTP. */
static int parse_head(struct conn *c) {
  char *h = c->head;
  if (c->head_len < 12 || strncmp(h, "HTTP/1.", 7) != 0) return -1;
  c->status = atoi(h + 9);
  int chunked = 0, has_len = 0;
  uint64_t len = 0;
  char *line = memchr(h, '\n', c->head_len);
  while (line) {
    line++;
    char *end = memchr(line, '\n', c->head_len - (size_t)(line - h));
    if (!end) break;
    size_t l = (size_t)(end - line);
    if (header_is(line, l, "content-length")) {
      has_len = 1;
      len = strtoull(line + 15, NULL, 10);
    } else if (header_is(line, l, "transfer-encoding")) {
      chunked = memmem(line, l, "chunked", 7) != NULL;
    } else if (header_is(line, l, "connection")) {
      if (memmem(line, l, "close", 5) != NULL) c->close_after = 1;
    }
    line = end;
  }
  if (c->status == 204 || c->status == 304 || (c->status >= 100 && c->status < 200)) {
    c->state = P_BODY_LEN;
    c->left = 0;
  } else if (chunked) {
    c->state = P_CHUNK_SIZE;
    c->head_len = 0; /* head[] now holds the chunk-size line */
  } else if (has_len) {
    c->state = P_BODY_LEN;
    c->left = len;
  } else {
    c->state = P_BODY_CLOSE;
    c->close_after = 1;
  }
  return 0;
}

static int running = 1;

static void finish(struct conn *c, uint64_t t) {
  completed++;
  if (c->status >= 0 && c->status < 600) status_counts[c->status]++;
  if (c->status < 200 || c->status > 299) non2xx++;
  record(t - c->start_ns);
  c->busy = 0;
}

/*
 * Feeds `n` bytes read on `c` to its response parser. Returns 1 when a response ended (the bytes
 * after it, if any, are an error: one request is in flight per connection), 0 when more is
 * needed, -1 on a malformed response.
 */
static int feed(struct conn *c, const char *p, size_t n, uint64_t t) {
  size_t i = 0;
  while (i < n) {
    switch (c->state) {
      case P_HEAD: {
        /* Copy up to the end of the head (\r\n\r\n), byte by byte only until it is found. */
        while (i < n) {
          if (c->head_len >= sizeof c->head - 1) return -1;
          c->head[c->head_len++] = p[i++];
          if (c->head_len >= 4 && memcmp(c->head + c->head_len - 4, "\r\n\r\n", 4) == 0) {
            if (parse_head(c) < 0) return -1;
            if (c->state == P_BODY_LEN && c->left == 0) {
              finish(c, t);
              return i == n ? 1 : -1;
            }
            break;
          }
        }
        break;
      }
      case P_BODY_LEN: {
        size_t take = n - i < c->left ? n - i : (size_t)c->left;
        i += take;
        c->left -= take;
        if (c->left == 0) {
          finish(c, t);
          return i == n ? 1 : -1;
        }
        break;
      }
      case P_CHUNK_SIZE:
      case P_TRAILER: {
        /* A line: the chunk size (extensions ignored), or a trailer line after the last chunk. */
        while (i < n) {
          if (c->head_len >= sizeof c->head - 1) return -1;
          char ch = p[i++];
          c->head[c->head_len++] = ch;
          if (ch != '\n') continue;
          if (c->state == P_TRAILER) {
            int empty = c->head_len <= 2;
            c->head_len = 0;
            if (empty) {
              finish(c, t);
              return i == n ? 1 : -1;
            }
            continue;
          }
          c->head[c->head_len] = 0;
          char *endp;
          uint64_t size = strtoull(c->head, &endp, 16);
          if (endp == c->head) return -1;
          c->head_len = 0;
          if (size == 0) {
            c->state = P_TRAILER;
          } else {
            c->state = P_CHUNK_DATA;
            c->left = size;
          }
          break;
        }
        break;
      }
      case P_CHUNK_DATA: {
        size_t take = n - i < c->left ? n - i : (size_t)c->left;
        i += take;
        c->left -= take;
        if (c->left == 0) {
          c->state = P_CHUNK_CRLF;
          c->left = 2;
        }
        break;
      }
      case P_CHUNK_CRLF: {
        size_t take = n - i < c->left ? n - i : (size_t)c->left;
        i += take;
        c->left -= take;
        if (c->left == 0) {
          c->state = P_CHUNK_SIZE;
          c->head_len = 0;
        }
        break;
      }
      case P_BODY_CLOSE:
        i = n; /* ends with the connection */
        break;
    }
  }
  return 0;
}

static void usage(void) {
  fprintf(stderr,
          "usage: weir-loadgen --url-host HOST --port PORT --request-file FILE [--connections C]\n"
          "       [--duration S | --requests N] [--rate R] [--timeout S]\n");
  exit(2);
}

int main(int argc, char **argv) {
  const char *host = "127.0.0.1", *file = NULL;
  int port = 0, nconn = 1;
  double duration = 0, rate = 0, timeout_s = 10;
  uint64_t max_requests = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) usage();
    if (!strcmp(a, "--host")) host = v;
    else if (!strcmp(a, "--port")) port = atoi(v);
    else if (!strcmp(a, "--request-file")) file = v;
    else if (!strcmp(a, "--connections")) nconn = atoi(v);
    else if (!strcmp(a, "--duration")) duration = atof(v);
    else if (!strcmp(a, "--requests")) max_requests = strtoull(v, NULL, 10);
    else if (!strcmp(a, "--rate")) rate = atof(v);
    else if (!strcmp(a, "--timeout")) timeout_s = atof(v);
    else usage();
    i++;
  }
  if (!file || port <= 0 || nconn < 1 || nconn > MAX_CONNS || (duration <= 0 && max_requests == 0)) usage();

  FILE *f = fopen(file, "rb");
  if (!f) die("cannot open the request file");
  struct stat st;
  if (fstat(fileno(f), &st) < 0 || st.st_size <= 0) die("empty request file");
  req_len = (size_t)st.st_size;
  req = malloc(req_len);
  if (!req || fread(req, 1, req_len, f) != req_len) die("cannot read the request file");
  fclose(f);

  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai;
  char portstr[16];
  snprintf(portstr, sizeof portstr, "%d", port);
  if (getaddrinfo(host, portstr, &hints, &ai) != 0) die("cannot resolve the host");
  memcpy(&addr, ai->ai_addr, ai->ai_addrlen);
  addr_len = ai->ai_addrlen;
  freeaddrinfo(ai);

  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) die("epoll_create1 failed");
  conns = calloc((size_t)nconn, sizeof *conns);
  if (!conns) die("out of memory");
  for (int i = 0; i < nconn; i++) conns[i].fd = -1;
  nconns = nconn;

  static char buf[READ_BUF];
  struct epoll_event evs[256];
  const int open_loop = rate > 0;
  const uint64_t t0 = now_ns();
  const uint64_t stop_at = duration > 0 ? t0 + (uint64_t)(duration * 1e9) : UINT64_MAX;
  const uint64_t interval = open_loop ? (uint64_t)(1e9 / rate) : 0;
  const uint64_t timeout_ns = (uint64_t)(timeout_s * 1e9);
  uint64_t planned = 0;   /* open loop: sends planned so far */
  uint64_t max_lag = 0;   /* open loop: the latest a send left after its planned time */
  uint64_t drain_deadline = 0;

  if (!open_loop) {
    for (int i = 0; i < nconn; i++) {
      if (open_conn(&conns[i]) < 0) die("cannot connect");
      if (max_requests == 0 || sent < max_requests) start_request(&conns[i], now_ns());
    }
  }

  for (;;) {
    uint64_t t = now_ns();
    int sending = running && t < stop_at && (max_requests == 0 || sent < max_requests);
    if (!sending && running) {
      running = 0;
      drain_deadline = t + timeout_ns;
    }
    int in_flight = 0;
    int blocked = 0; /* open loop: a send is due and every connection is busy */
    if (open_loop && sending) {
      /* Every send whose planned time has come: on an idle connection, or a new one. */
      while (t0 + planned * interval <= t && (max_requests == 0 || sent < max_requests)) {
        struct conn *c = NULL;
        for (int i = 0; i < nconns && !c; i++)
          if (conns[i].fd >= 0 && !conns[i].busy) c = &conns[i];
        for (int i = 0; i < nconns && !c; i++)
          if (conns[i].fd < 0) {
            if (open_conn(&conns[i]) < 0) {
              note_error("cannot connect");
              break;
            }
            c = &conns[i];
          }
        if (!c) {
          blocked = 1; /* every connection busy: the send waits for an answer, its wait counted */
          break;
        }
        uint64_t plan = t0 + planned * interval;
        if (t - plan > max_lag) max_lag = t - plan;
        start_request(c, plan);
        planned++;
      }
    }
    for (int i = 0; i < nconns; i++) in_flight += conns[i].busy;
    if (!running && in_flight == 0) break;
    if (!running && t >= drain_deadline) {
      for (int i = 0; i < nconns; i++)
        if (conns[i].busy) {
          timeouts++;
          note_error("timed out");
          close_conn(&conns[i]);
        }
      break;
    }
    /* Sleep until the next planned send, the end of the run, or an event. */
    int wait_ms = 100;
    if (open_loop && sending && !blocked) {
      uint64_t next = t0 + planned * interval;
      wait_ms = next <= t ? 0 : (int)((next - t) / 1000000);
    } else if (sending && stop_at != UINT64_MAX) {
      uint64_t left = (stop_at - t) / 1000000 + 1;
      if (left < (uint64_t)wait_ms) wait_ms = (int)left;
    }
    int n = epoll_wait(epfd, evs, 256, wait_ms);
    if (n < 0 && errno != EINTR) die("epoll_wait failed");
    t = now_ns();
    for (int k = 0; k < n; k++) {
      struct conn *c = evs[k].data.ptr;
      if (c->fd < 0) continue;
      uint32_t e = evs[k].events;
      if (c->connecting && (e & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        int err = 0;
        socklen_t el = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (err) {
          if (c->busy) note_error("cannot connect");
          close_conn(c);
          continue;
        }
        c->connecting = 0;
        if (c->busy) {
          if (flush_request(c) < 0) {
            note_error("write failed");
            close_conn(c);
            continue;
          }
        } else {
          want_write(c, 0);
        }
      } else if ((e & EPOLLOUT) && c->busy && c->wrote < req_len) {
        if (flush_request(c) < 0) {
          note_error("write failed");
          close_conn(c);
          continue;
        }
      }
      if (!(e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) continue;
      int ended = 0, broken = 0;
      for (;;) {
        ssize_t r = recv(c->fd, buf, sizeof buf, 0);
        if (r > 0) {
          if (!c->busy) {
            broken = 1;
            note_error("bytes with no request in flight");
            break;
          }
          int fr = feed(c, buf, (size_t)r, now_ns());
          if (fr < 0) {
            broken = 1;
            note_error("malformed response");
            break;
          }
          if (fr == 1) {
            ended = 1;
            break;
          }
          continue;
        }
        if (r == 0) {
          /* The peer closed: the end of a close-delimited body, else an error if one was awaited. */
          if (c->busy && c->state == P_BODY_CLOSE) {
            finish(c, now_ns());
            ended = 1;
          } else if (c->busy) {
            note_error("connection closed before the response ended");
          }
          broken = 1;
          break;
        }
        if (errno == EAGAIN) break;
        if (c->busy) note_error("read failed");
        broken = 1;
        break;
      }
      if (broken || (ended && c->close_after)) {
        /* Closed loop: the connection is replaced and carries on (the open loop opens one when a send needs it). */
        close_conn(c);
        if (!open_loop && running && now_ns() < stop_at && (max_requests == 0 || sent < max_requests) && open_conn(c) == 0)
          start_request(c, now_ns());
        continue;
      }
      if (ended && !open_loop) {
        uint64_t t2 = now_ns();
        if (running && t2 < stop_at && (max_requests == 0 || sent < max_requests)) start_request(c, t2);
      }
    }
  }
  uint64_t t_end = now_ns();
  double elapsed = (double)(t_end - t0) / 1e9;
  printf("{\"generator\":\"weir-loadgen\",\"mode\":\"%s\",\"connections\":%d,\"rate\":%.3f,", open_loop ? "open" : "closed", nconn, rate);
  printf("\"elapsed_s\":%.6f,\"sent\":%llu,\"completed\":%llu,\"errors\":%llu,\"timeouts\":%llu,\"non2xx\":%llu,\"connects\":%llu,",
         elapsed, (unsigned long long)sent, (unsigned long long)completed, (unsigned long long)errors, (unsigned long long)timeouts,
         (unsigned long long)non2xx, (unsigned long long)connects);
  printf("\"rps\":%.3f,\"status\":{", elapsed > 0 ? (double)completed / elapsed : 0);
  int firstst = 1;
  for (int s = 0; s < 600; s++)
    if (status_counts[s]) {
      printf("%s\"%d\":%llu", firstst ? "" : ",", s, (unsigned long long)status_counts[s]);
      firstst = 0;
    }
  printf("},\"latency_ms\":{\"p50\":%.6f,\"p90\":%.6f,\"p99\":%.6f,\"p999\":%.6f,\"max\":%.6f,\"mean\":%.6f},", percentile_ms(50),
         percentile_ms(90), percentile_ms(99), percentile_ms(99.9), (double)hist_max / 1e6,
         hist_count ? hist_sum / (double)hist_count / 1e6 : 0);
  printf("\"gen_lag_max_ms\":%.6f,\"first_error\":", (double)max_lag / 1e6);
  if (first_error[0]) printf("\"%s\"}\n", first_error);
  else printf("null}\n");
  return 0;
}
