/* IP addresses and networks: CIDR lists for settings, membership, the kind of an address and the
 * team webhook policy (which URLs may be stored, which addresses may be connected to). */
#include "netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define NET_TEXT_MAX 64 /* longer than any address with its prefix */

/* Turns an IPv4-mapped IPv6 address into IPv4, in place. */
static void net_unmap(struct net_cidr *c)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (!c->v6 || memcmp(c->addr, mapped, sizeof mapped) != 0) return;
    memmove(c->addr, c->addr + 12, 4);
    memset(c->addr + 4, 0, 12);
    c->v6 = 0;
    c->prefix = c->prefix >= 96 ? c->prefix - 96 : 0;
}

/* Clears the bits past the prefix. */
static void net_mask(struct net_cidr *c)
{
    int bytes = c->v6 ? 16 : 4;
    for (int i = 0; i < bytes; i++) {
        int keep = c->prefix - i * 8;
        if (keep >= 8) continue;
        c->addr[i] &= keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
    }
}

int net_cidr_parse(const char *s, size_t n, struct net_cidr *out)
{
    char text[NET_TEXT_MAX];
    const char *slash;
    size_t alen;
    long prefix = -1;

    if (n == 0 || n >= sizeof text) return -1;
    memcpy(text, s, n);
    text[n] = '\0';
    slash = strchr(text, '/');
    alen = slash ? (size_t)(slash - text) : n;
    if (slash) {
        const char *p = slash + 1;
        if (*p == '\0' || strlen(p) > 3) return -1;
        prefix = 0;
        for (; *p; p++) {
            if (*p < '0' || *p > '9') return -1;
            prefix = prefix * 10 + (*p - '0');
        }
    }
    text[alen] = '\0';
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, text, out->addr) == 1) {
        out->v6 = 0;
        out->prefix = prefix < 0 ? 32 : (int)prefix;
        if (out->prefix > 32) return -1;
    } else if (inet_pton(AF_INET6, text, out->addr) == 1) {
        out->v6 = 1;
        out->prefix = prefix < 0 ? 128 : (int)prefix;
        if (out->prefix > 128) return -1;
        net_unmap(out);
    } else {
        return -1;
    }
    net_mask(out);
    return 0;
}

int net_list_parse(const char *s, size_t n, struct net_list *out, char *why, size_t whylen)
{
    size_t i = 0;

    memset(out, 0, sizeof *out);
    while (i < n) {
        const char *comma = memchr(s + i, ',', n - i);
        size_t end = comma ? (size_t)(comma - s) : n, a = i, b = end;
        while (a < b && (s[a] == ' ' || s[a] == '\t')) a++;
        while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t')) b--;
        if (b > a) {
            if (out->n == NET_LIST_MAX) {
                snprintf(why, whylen, "at most %d addresses or networks", NET_LIST_MAX);
                return -1;
            }
            if (net_cidr_parse(s + a, b - a, &out->nets[out->n]) != 0) {
                snprintf(why, whylen,
                         "item %zu is not an IP address or network (e.g. 10.0.0.5, "
                         "10.0.0.0/8, fd00::/8)",
                         out->n + 1);
                return -1;
            }
            out->n++;
        }
        i = end + 1;
    }
    return 0;
}

static int net_in(const struct net_cidr *net, const struct net_cidr *a)
{
    int full = net->prefix / 8, rest = net->prefix % 8;
    if (net->v6 != a->v6) return 0;
    if (memcmp(net->addr, a->addr, (size_t)full) != 0) return 0;
    if (rest == 0) return 1;
    return (a->addr[full] & (unsigned char)(0xff << (8 - rest))) == net->addr[full];
}

int net_list_contains(const struct net_list *list, const struct net_cidr *addr)
{
    if (list == NULL) return 0;
    for (size_t i = 0; i < list->n; i++)
        if (net_in(&list->nets[i], addr)) return 1;
    return 0;
}

int net_cidr_from_sockaddr(const struct sockaddr *sa, struct net_cidr *out)
{
    memset(out, 0, sizeof *out);
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        memcpy(out->addr, &in->sin_addr, 4);
        out->prefix = 32;
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        memcpy(out->addr, &in6->sin6_addr, 16);
        out->v6 = 1;
        out->prefix = 128;
        net_unmap(out);
        return 0;
    }
    return -1;
}

struct net_range {
    const char *cidr;
    enum net_kind kind;
};

/* Special-purpose ranges (IANA's IPv4 and IPv6 registries); first match wins. */
static const struct net_range net_ranges[] = {
    {"0.0.0.0/8", NET_UNSPECIFIED},
    {"127.0.0.0/8", NET_LOOPBACK},
    {"10.0.0.0/8", NET_PRIVATE},
    {"172.16.0.0/12", NET_PRIVATE},
    {"192.168.0.0/16", NET_PRIVATE},
    {"100.64.0.0/10", NET_PRIVATE}, /* carrier-grade NAT */
    {"198.18.0.0/15", NET_PRIVATE}, /* benchmarking */
    {"192.0.0.0/24", NET_PRIVATE},  /* IETF protocol assignments */
    {"169.254.0.0/16", NET_LINK_LOCAL},
    {"192.0.2.0/24", NET_DOCUMENTATION},
    {"198.51.100.0/24", NET_DOCUMENTATION},
    {"203.0.113.0/24", NET_DOCUMENTATION},
    {"192.88.99.0/24", NET_RESERVED}, /* the former 6to4 relay anycast */
    {"224.0.0.0/4", NET_MULTICAST},
    {"240.0.0.0/4", NET_RESERVED}, /* 255.255.255.255 included */
    {"::/128", NET_UNSPECIFIED},
    {"::1/128", NET_LOOPBACK},
    {"64:ff9b:1::/48", NET_PRIVATE}, /* local-use NAT64: reaches the domain's own IPv4 */
    {"2001::/32", NET_TUNNEL},       /* Teredo: the IPv4 it reaches is hidden in the address */
    {"2001:db8::/32", NET_DOCUMENTATION},
    {"100::/64", NET_RESERVED}, /* discard-only */
    {"fc00::/7", NET_PRIVATE},
    {"fec0::/10", NET_PRIVATE},
    {"fe80::/10", NET_LINK_LOCAL},
    {"ff00::/8", NET_MULTICAST},
};

/* IPv6 forms that carry an IPv4 address which a translator, relay or tunnel then reaches: the
 * offset of the IPv4 address in the IPv6 one. */
static const struct {
    const char *cidr;
    size_t at;
} net_embeds[] = {
    {"64:ff9b::/96", 12},    /* NAT64, the well-known prefix */
    {"2002::/16", 2},        /* 6to4 */
    {"::ffff:0:0:0/96", 12}, /* IPv4-translated (SIIT) */
    {"::/96", 12},           /* IPv4-compatible (:: and ::1 matched before) */
};

static int net_in_text(const char *cidr, const struct net_cidr *addr)
{
    struct net_cidr net;
    return net_cidr_parse(cidr, strlen(cidr), &net) == 0 && net_in(&net, addr);
}

/* The kind by the ranges alone, without looking inside embedding forms. */
static enum net_kind net_kind_direct(const struct net_cidr *addr)
{
    for (size_t i = 0; i < sizeof net_ranges / sizeof net_ranges[0]; i++)
        if (net_in_text(net_ranges[i].cidr, addr)) return net_ranges[i].kind;
    return NET_PUBLIC;
}

enum net_kind net_kind_of(const struct net_cidr *addr)
{
    enum net_kind kind = net_kind_direct(addr);
    if (kind != NET_PUBLIC || !addr->v6) return kind;
    for (size_t i = 0; i < sizeof net_embeds / sizeof net_embeds[0]; i++) {
        if (net_in_text(net_embeds[i].cidr, addr)) {
            struct net_cidr v4;
            memset(&v4, 0, sizeof v4);
            memcpy(v4.addr, addr->addr + net_embeds[i].at, 4);
            v4.prefix = 32;
            return net_kind_direct(&v4);
        }
    }
    return NET_PUBLIC;
}

int net_webhook_address_allowed(const struct net_cidr *addr, int url_names_loopback,
                                const struct net_list *allow)
{
    enum net_kind kind = net_kind_of(addr);
    if (net_list_contains(allow, addr)) return 1;
    if (kind == NET_PUBLIC) return 1;
    /* loopback itself, not an IPv6 form that embeds a loopback IPv4 address */
    return url_names_loopback && net_kind_direct(addr) == NET_LOOPBACK;
}

/* 1 when host[0..n) (brackets removed) is a loopback host name or address. */
static int net_host_is_loopback(const char *host, size_t n)
{
    struct net_cidr a;
    if (n == 9 && strncasecmp(host, "localhost", 9) == 0) return 1;
    if (memchr(host, '/', n) != NULL || net_cidr_parse(host, n, &a) != 0) return 0;
    return net_kind_direct(&a) == NET_LOOPBACK;
}

int net_webhook_url_check(const char *url, int *names_loopback)
{
    const char *host, *end;
    size_t hlen;
    int https;

    if (strncasecmp(url, "https://", 8) == 0) {
        https = 1;
        host = url + 8;
    } else if (strncasecmp(url, "http://", 7) == 0) {
        https = 0;
        host = url + 7;
    } else {
        return -1;
    }
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '\\') return -1;
    end = host + strcspn(host, "/?#");
    if (memchr(host, '@', (size_t)(end - host)) != NULL) return -1; /* user info */
    if (*host == '[') {
        const char *close = memchr(host, ']', (size_t)(end - host));
        if (close == NULL) return -1;
        host++;
        hlen = (size_t)(close - host);
    } else {
        const char *colon = memchr(host, ':', (size_t)(end - host));
        hlen = (size_t)((colon ? colon : end) - host);
    }
    if (hlen == 0) return -1;
    *names_loopback = net_host_is_loopback(host, hlen);
    return https || *names_loopback ? 0 : -1;
}
