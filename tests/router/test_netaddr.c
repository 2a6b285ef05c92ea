/* Tests of router/base/netaddr.c: address and network parsing, membership, the kind of an
 * address, and the team webhook policy (which URLs may be stored, which addresses reached). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "netaddr.h"
#include "tap.h"

static struct net_cidr addr(const char *s)
{
    struct net_cidr a;
    if (net_cidr_parse(s, strlen(s), &a) != 0) memset(&a, 0xff, sizeof a);
    return a;
}

/* Whether a webhook may connect to the address s; loopback_url: the URL named a loopback host. */
static int allowed(const char *s, int loopback_url, const struct net_list *allow)
{
    struct net_cidr a = addr(s);
    return net_webhook_address_allowed(&a, loopback_url, allow);
}

static int url_ok(const char *url, int *lo)
{
    int dummy;
    return net_webhook_url_check(url, lo ? lo : &dummy) == 0;
}

static void test_parse(void)
{
    struct net_cidr c;
    struct net_list l;
    char why[128];

    CHECK(net_cidr_parse("10.1.2.3/8", 10, &c) == 0 && !c.v6 && c.prefix == 8 && c.addr[0] == 10 &&
              c.addr[1] == 0,
          "a network: bits past the prefix cleared");
    CHECK(net_cidr_parse("::ffff:192.0.2.1", 16, &c) == 0 && !c.v6 && c.prefix == 32 &&
              c.addr[0] == 192 && c.addr[3] == 1,
          "an IPv4-mapped IPv6 address is kept as IPv4");
    CHECK(net_cidr_parse("10.0.0.0/33", 11, &c) != 0, "/33 refused");
    CHECK(net_cidr_parse("fd00::/129", 10, &c) != 0, "/129 refused");
    CHECK(net_cidr_parse("127.1", 5, &c) != 0, "a shortened IPv4 form is not an address");
    CHECK(net_cidr_parse("host.example", 12, &c) != 0, "a name is not an address");
    CHECK(net_cidr_parse("10.0.0.0/", 9, &c) != 0, "an empty prefix is refused");
    CHECK(net_list_parse(" 10.0.0.1 , 192.168.0.0/16,, fd00::/8 ", 38, &l, why, sizeof why) == 0 &&
              l.n == 3,
          "a list: blanks and empty items ignored");
    CHECK(net_list_parse("10.0.0.1,nope", 13, &l, why, sizeof why) != 0 &&
              strstr(why, "item 2") != NULL,
          "a bad item is named by its position");
    CHECK(net_list_parse("", 0, &l, why, sizeof why) == 0 && l.n == 0, "an empty list");
}

static void test_contains(void)
{
    struct net_list l;
    char why[128];
    struct net_cidr a;
    struct sockaddr_in6 sin6;

    net_list_parse("10.20.0.0/16,2001:db8::/32,192.0.2.7", 37, &l, why, sizeof why);
    a = addr("10.20.255.1");
    CHECK(net_list_contains(&l, &a), "inside a /16");
    a = addr("10.21.0.1");
    CHECK(!net_list_contains(&l, &a), "outside the /16");
    a = addr("2001:db8:1::5");
    CHECK(net_list_contains(&l, &a), "inside an IPv6 /32");
    a = addr("192.0.2.7");
    CHECK(net_list_contains(&l, &a), "a single address");
    a = addr("192.0.2.8");
    CHECK(!net_list_contains(&l, &a), "its neighbour is not");
    memset(&sin6, 0, sizeof sin6);
    sin6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "::ffff:10.20.3.4", &sin6.sin6_addr);
    CHECK(net_cidr_from_sockaddr((struct sockaddr *)&sin6, &a) == 0 && net_list_contains(&l, &a),
          "an IPv4-mapped socket address matches an IPv4 network");
    CHECK(!net_list_contains(NULL, &a), "no list contains nothing");
}

static void test_kinds(void)
{
    static const struct {
        const char *a;
        enum net_kind k;
    } cases[] = {
        {"169.254.169.254", NET_LINK_LOCAL},
        {"fe80::1", NET_LINK_LOCAL},
        {"10.0.0.1", NET_PRIVATE},
        {"172.16.0.1", NET_PRIVATE},
        {"172.31.255.255", NET_PRIVATE},
        {"192.168.1.1", NET_PRIVATE},
        {"100.64.0.1", NET_PRIVATE},
        {"fd12::1", NET_PRIVATE},
        {"127.0.0.1", NET_LOOPBACK},
        {"127.8.9.10", NET_LOOPBACK},
        {"::1", NET_LOOPBACK},
        {"::ffff:127.0.0.1", NET_LOOPBACK},
        {"0.0.0.0", NET_UNSPECIFIED},
        {"::", NET_UNSPECIFIED},
        {"224.0.0.1", NET_MULTICAST},
        {"ff02::1", NET_MULTICAST},
        {"255.255.255.255", NET_RESERVED},
        {"172.32.0.1", NET_PUBLIC},
        {"8.8.8.8", NET_PUBLIC},
        {"2001:4860:4860::8888", NET_PUBLIC},
        {"::ffff:169.254.169.254", NET_LINK_LOCAL},
        /* the IPv4 special-purpose ranges */
        {"0.1.2.3", NET_UNSPECIFIED},
        {"10.255.255.255", NET_PRIVATE},
        {"100.127.255.254", NET_PRIVATE},
        {"100.128.0.1", NET_PUBLIC},
        {"127.255.255.255", NET_LOOPBACK},
        {"169.254.0.1", NET_LINK_LOCAL},
        {"172.15.255.255", NET_PUBLIC},
        {"192.0.0.9", NET_PRIVATE},
        {"192.0.2.1", NET_DOCUMENTATION},
        {"192.88.99.1", NET_RESERVED},
        {"192.168.255.255", NET_PRIVATE},
        {"198.18.0.1", NET_PRIVATE},
        {"198.19.255.255", NET_PRIVATE},
        {"198.20.0.1", NET_PUBLIC},
        {"198.51.100.7", NET_DOCUMENTATION},
        {"203.0.113.9", NET_DOCUMENTATION},
        {"239.255.255.255", NET_MULTICAST},
        {"240.0.0.1", NET_RESERVED},
        /* the IPv6 special-purpose ranges */
        {"fc00::1", NET_PRIVATE},
        {"fdff:ffff::1", NET_PRIVATE},
        {"febf::1", NET_LINK_LOCAL},
        {"fec0::1", NET_PRIVATE},
        {"ff0e::1", NET_MULTICAST},
        {"2001:db8::1", NET_DOCUMENTATION},
        {"100::1", NET_RESERVED},
        {"100:0:0:1::1", NET_PUBLIC},
        /* Teredo: refused whatever it hides */
        {"2001::1", NET_TUNNEL},
        {"2001:0:4136:e378:8000:63bf:3fff:fdd2", NET_TUNNEL},
        /* NAT64, well-known prefix: the kind of the IPv4 address it carries */
        {"64:ff9b::a9fe:a9fe", NET_LINK_LOCAL},
        {"64:ff9b::127.0.0.1", NET_LOOPBACK},
        {"64:ff9b::10.0.0.1", NET_PRIVATE},
        {"64:ff9b::0.0.0.0", NET_UNSPECIFIED},
        {"64:ff9b::8.8.8.8", NET_PUBLIC},
        /* local-use NAT64 reaches the domain's own network: private */
        {"64:ff9b:1::8.8.8.8", NET_PRIVATE},
        {"64:ff9b:1:ffff::1", NET_PRIVATE},
        /* 6to4 */
        {"2002:a9fe:a9fe::1", NET_LINK_LOCAL},
        {"2002:7f00:1::", NET_LOOPBACK},
        {"2002:c0a8:101::1", NET_PRIVATE},
        {"2002:0808:0808::1", NET_PUBLIC},
        /* IPv4-compatible (deprecated) and IPv4-translated */
        {"::169.254.169.254", NET_LINK_LOCAL},
        {"::127.0.0.1", NET_LOOPBACK},
        {"::10.1.2.3", NET_PRIVATE},
        {"::8.8.8.8", NET_PUBLIC},
        {"::ffff:0:10.0.0.1", NET_PRIVATE},
        {"::ffff:0:8.8.8.8", NET_PUBLIC},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct net_cidr a = addr(cases[i].a);
        CHECK(net_kind_of(&a) == cases[i].k, cases[i].a);
    }
}

static void test_policy(void)
{
    struct net_list allow;
    char why[128];
    int lo = -1;

    net_list_parse("10.20.0.0/16", 12, &allow, why, sizeof why);
    CHECK(allowed("8.8.8.8", 0, NULL), "a public address is reached");
    CHECK(allowed("2001:4860:4860::8888", 0, NULL), "a public IPv6 address is reached");
    CHECK(!allowed("203.0.113.9", 0, NULL), "a documentation address is refused");
    CHECK(!allowed("2001:db8::1", 0, NULL), "an IPv6 documentation address is refused");
    CHECK(!allowed("64:ff9b::a9fe:a9fe", 0, NULL), "the metadata address through NAT64 is refused");
    CHECK(!allowed("2002:a9fe:a9fe::1", 0, NULL), "the metadata address through 6to4 is refused");
    CHECK(!allowed("::169.254.169.254", 0, NULL), "IPv4-compatible metadata is refused");
    CHECK(!allowed("2001::1", 0, NULL), "Teredo is refused");
    CHECK(!allowed("64:ff9b:1::8.8.8.8", 0, NULL), "local-use NAT64 is refused");
    CHECK(allowed("64:ff9b::8.8.8.8", 0, NULL), "a public address through NAT64 is reached");
    CHECK(allowed("2002:0808:0808::1", 0, NULL), "a public 6to4 address is reached");
    CHECK(!allowed("64:ff9b::127.0.0.1", 1, NULL),
          "loopback through NAT64 is refused even with a loopback URL");
    CHECK(!allowed("::127.0.0.1", 1, NULL), "IPv4-compatible loopback too");
    CHECK(!allowed("169.254.169.254", 0, NULL), "the cloud metadata address is refused");
    CHECK(!allowed("169.254.169.254", 1, NULL), "link-local stays refused with a loopback URL");
    CHECK(!allowed("10.20.1.1", 0, NULL), "a private address is refused");
    CHECK(allowed("10.20.1.1", 0, &allow), "unless ESS_WEBHOOK_ALLOW_NETS lists it");
    CHECK(!allowed("10.21.1.1", 0, &allow), "another private network stays refused");
    CHECK(!allowed("127.0.0.1", 0, NULL), "loopback refused when the URL named another host");
    CHECK(allowed("127.0.0.1", 1, NULL), "loopback reached when the URL named a loopback host");
    CHECK(allowed("::1", 1, NULL), "::1 too");
    CHECK(!allowed("0.0.0.0", 1, NULL), "the unspecified address is refused");
    CHECK(!allowed("224.0.0.1", 0, NULL), "multicast is refused");
    CHECK(!allowed("::ffff:10.0.0.1", 0, NULL), "IPv4-mapped private is refused");

    CHECK(url_ok("https://gw.example/bkk-03", &lo) && lo == 0, "https to a name");
    CHECK(url_ok("http://127.0.0.1:8090/t1", &lo) && lo == 1, "http to 127.0.0.1");
    CHECK(url_ok("http://localhost:8090/t1", &lo) && lo == 1, "http to localhost");
    CHECK(url_ok("http://LOCALHOST/t1", &lo) && lo == 1, "host names are case-blind");
    CHECK(url_ok("http://[::1]:8090/t1", &lo) && lo == 1, "http to [::1]");
    CHECK(url_ok("https://127.0.0.1/x", &lo) && lo == 1, "https to loopback names loopback");
    CHECK(!url_ok("http://[::127.0.0.1]/x", NULL), "an IPv4-compatible loopback is not loopback");
    CHECK(!url_ok("http://[64:ff9b::7f00:1]/x", NULL), "nor is one through NAT64");
    CHECK(!url_ok("http://169.254.169.254/latest/meta-data", NULL), "http to metadata refused");
    CHECK(!url_ok("http://gw.example/bkk-03", NULL), "plain http to a name refused");
    CHECK(!url_ok("http://10.0.0.1/x", NULL), "plain http to a private address refused");
    CHECK(!url_ok("http://127.0.0.1@evil.example/x", NULL), "user info refused");
    CHECK(!url_ok("http://localhost.evil.example/x", NULL), "a name that starts with localhost");
    CHECK(!url_ok("http://127.1/x", NULL), "a shortened loopback form is not named loopback");
    CHECK(!url_ok("ftp://gw.example/x", NULL), "another scheme refused");
    CHECK(!url_ok("https:///x", NULL), "no host refused");
    CHECK(!url_ok("https://gw.example/a b", NULL), "a blank refused");
}

int main(void)
{
    test_parse();
    test_contains();
    test_kinds();
    test_policy();
    return tap_done();
}
