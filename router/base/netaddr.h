/* IP addresses and networks: lists of networks (CIDRs) as settings hold them, membership, the
 * kind of an address (public, loopback, private, ...) and the policy of which addresses and URLs
 * an outbound team webhook may reach. Pure: no I/O, no name resolution. */
#ifndef ESS_ROUTER_NETADDR_H
#define ESS_ROUTER_NETADDR_H

#include <stddef.h>

struct sockaddr;

#define NET_LIST_MAX 32

/* An address (prefix 32 or 128) or a network. IPv4 is kept as such, also when it came
 * IPv4-mapped (::ffff:a.b.c.d). */
struct net_cidr {
    int v6;                 /* 0: IPv4 (addr[0..4)), 1: IPv6 (addr[0..16)) */
    unsigned char addr[16]; /* bits past the prefix are zero */
    int prefix;
};

struct net_list {
    size_t n;
    struct net_cidr nets[NET_LIST_MAX];
};

enum net_kind {
    NET_PUBLIC = 0,
    NET_UNSPECIFIED,   /* 0.0.0.0/8, :: */
    NET_LOOPBACK,      /* 127.0.0.0/8, ::1 */
    NET_PRIVATE,       /* 10/8, 172.16/12, 192.168/16, 100.64/10, 198.18/15, 192.0.0/24, fc00::/7,
                          fec0::/10, 64:ff9b:1::/48 (local-use NAT64) */
    NET_LINK_LOCAL,    /* 169.254/16, fe80::/10 */
    NET_MULTICAST,     /* 224/4, ff00::/8 */
    NET_RESERVED,      /* 240/4 (broadcast included), 192.88.99/24, 100::/64 (discard) */
    NET_DOCUMENTATION, /* 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32 */
    NET_TUNNEL         /* Teredo 2001::/32: the IPv4 address it reaches is hidden, never allowed */
};

/* Parses s[0..n) as one address ("192.0.2.7", "2001:db8::1") or network ("10.0.0.0/8",
 * "fd00::/8"). 0, or -1 when it is neither. */
int net_cidr_parse(const char *s, size_t n, struct net_cidr *out);

/* Parses a comma-separated list of addresses and networks (blanks around items ignored, empty
 * list allowed). 0, or -1 with the reason in why (out is then unspecified). */
int net_list_parse(const char *s, size_t n, struct net_list *out, char *why, size_t whylen);

/* 1 when the address (a single-address net_cidr) lies in one of the list's networks. */
int net_list_contains(const struct net_list *list, const struct net_cidr *addr);

/* The address of an AF_INET or AF_INET6 socket address as a single-address net_cidr. -1 for
 * another family. */
int net_cidr_from_sockaddr(const struct sockaddr *sa, struct net_cidr *out);

/* The kind of an address. An IPv6 form that carries an IPv4 address a translator, relay or tunnel
 * then reaches (NAT64 64:ff9b::/96, 6to4 2002::/16, IPv4-translated ::ffff:0:0:0/96,
 * IPv4-compatible ::/96) has the kind of the IPv4 address it carries (IPv4-mapped addresses are
 * IPv4 already). */
enum net_kind net_kind_of(const struct net_cidr *addr);

/* Whether an outbound team webhook may connect to addr: a public address (net_kind_of), a
 * loopback one (127/8 or ::1 itself, not an IPv6 form embedding 127/8) when the URL itself named
 * a loopback host, or any address inside allow (may be NULL). 1 or 0. */
int net_webhook_address_allowed(const struct net_cidr *addr, int url_names_loopback,
                                const struct net_list *allow);

/* Checks a team webhook URL: https:// with a host, or http:// to a loopback host (127.0.0.1 and
 * the rest of 127/8, localhost, [::1]). No user info, blanks or control characters. 0 when
 * accepted, -1 when refused. *names_loopback says whether the host is a loopback one; it is set
 * whenever the host could be read, also for a refused http:// URL. */
int net_webhook_url_check(const char *url, int *names_loopback);

#endif
