/* Tests of router/store/replicas.c: counting the replicas in sync in a primary's INFO
 * replication. */
#include <string.h>

#include "replicas.h"
#include "tap.h"

static int count(const char *info, int max_lag)
{
    return replicas_in_sync(info, strlen(info), max_lag);
}

/* What Redis 7 prints for a primary with two replicas in sync. */
static const char TWO_ONLINE[] =
    "# Replication\r\n"
    "role:master\r\n"
    "connected_slaves:2\r\n"
    "slave0:ip=127.0.0.1,port=42427,state=online,offset=1522872,lag=0\r\n"
    "slave1:ip=127.0.0.1,port=51321,state=online,offset=1522872,lag=1\r\n"
    "master_failover_state:no-failover\r\n"
    "master_replid:e2d34fff7c8d6a74b99c0adb1b1a45b94d290b66\r\n"
    "master_repl_offset:1522872\r\n";

static void test_online(void)
{
    CHECK(count(TWO_ONLINE, 2) == 2, "two replicas online, lag 0 and 1: both");
    CHECK(count(TWO_ONLINE, 0) == 1, "at most lag 0: the one that acknowledged this second");
    const char *lag1 = strstr(TWO_ONLINE, "lag=1");
    CHECK(replicas_in_sync(TWO_ONLINE, (size_t)(lag1 + 4 - TWO_ONLINE), 2) == 1,
          "a text cut before the second replica's lag counts the first only");
    CHECK(replicas_in_sync(TWO_ONLINE, (size_t)(lag1 + 5 - TWO_ONLINE), 2) == 2,
          "a text ending right after the lag counts it");
    CHECK(count("slave0:ip=::1,port=1,state=online,offset=9,lag=0\n", 2) == 1, "LF endings");
    CHECK(count("slave12:ip=::1,port=1,state=online,offset=9,lag=2", 2) == 1,
          "two-digit index, no line end, lag at the limit");
}

/* Lines that do not count as a replica in sync (max lag 2). */
static const struct {
    const char *info, *what;
} NOT_COUNTED[] = {
    {"slave0:ip=127.0.0.1,port=1,state=wait_bgsave,offset=0,lag=0\r\n",
     "a replica waiting for its full synchronisation"},
    {"slave0:ip=127.0.0.1,port=1,state=send_bulk,offset=0,lag=0\r\n",
     "a replica receiving the snapshot"},
    {"slave0:ip=127.0.0.1,port=1,state=online,offset=5,lag=3\r\n",
     "a stalled replica (lag beyond the limit)"},
    {"slave0:ip=127.0.0.1,port=1,state=online,offset=5\r\n", "no lag field"},
    {"slave0:ip=127.0.0.1,port=1,state=online,offset=5,lag=\r\n", "an empty lag"},
    {"slave0:ip=127.0.0.1,port=1,state=online,offset=5,lag=-1\r\n", "a negative lag"},
    {"slave0:ip=127.0.0.1,port=1,state=onlinex,offset=5,lag=0\r\n",
     "a state that only starts with online"},
    {"slave0:ip=127.0.0.1,port=1,state=online,offset=5,lag=99999999999\r\n",
     "a lag too long to read"},
    {"slave_read_only:1\r\nslave_repl_offset:77\r\nslave_priority:100\r\n",
     "a replica's own fields are not replicas"},
    {"slave:ip=1,state=online,lag=0\r\nslaveX:state=online,lag=0\r\n", "slave without an index"},
    {"# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\n", "a replica"},
    {"", "empty text"},
};

static void test_not_counted(void)
{
    for (size_t i = 0; i < sizeof NOT_COUNTED / sizeof NOT_COUNTED[0]; i++)
        CHECK(count(NOT_COUNTED[i].info, 2) == 0, NOT_COUNTED[i].what);
    CHECK(replicas_in_sync(NULL, 0, 2) == 0, "no text");
}

int main(void)
{
    test_online();
    test_not_counted();
    return tap_done();
}
