//! Which URLs and addresses the guarded fetcher may reach: pure decisions, no I/O.
//!
//! Only public unicast addresses are reachable, over https. An allow-listed host (`net.allow_hosts`) may
//! also use http and non-public addresses, but never a cloud metadata address: a listed name whose DNS is
//! changed to point there would otherwise hand out the machine's credentials.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::Url;

use super::FetchError;

/// Cloud instance-metadata endpoints (AWS, GCP, Azure and most others; AWS ECS task credentials;
/// Alibaba; AWS over IPv6). Refused even for allow-listed hosts.
const METADATA: [IpAddr; 4] = [
    IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)),
    IpAddr::V4(Ipv4Addr::new(169, 254, 170, 2)),
    IpAddr::V4(Ipv4Addr::new(100, 100, 100, 200)),
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254)),
];

/// https always; http only for an allow-listed host.
pub fn check_scheme(url: &Url, allow_listed: bool) -> Result<(), FetchError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if allow_listed => Ok(()),
        _ => Err(FetchError::ForbiddenScheme),
    }
}

/// Every address a host resolved to must pass: one forbidden address refuses the host, so a name that
/// mixes public and private answers cannot steer the connection to the private one.
pub fn check_addresses(addrs: &[IpAddr], allow_listed: bool) -> Result<(), FetchError> {
    if addrs.is_empty() {
        return Err(FetchError::Unreachable);
    }
    addrs
        .iter()
        .try_for_each(|ip| check_address(*ip, allow_listed))
}

pub fn check_address(ip: IpAddr, allow_listed: bool) -> Result<(), FetchError> {
    if is_metadata(ip) || !(allow_listed || is_public(ip)) {
        return Err(FetchError::ForbiddenAddress);
    }
    Ok(())
}

/// A cloud metadata endpoint, written plainly or embedded in an IPv6 address.
pub fn is_metadata(ip: IpAddr) -> bool {
    let ip = unwrap_v4(ip);
    METADATA.contains(&ip)
}

/// A globally reachable unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(Embedded::Judged(v4)) => is_public_v4(v4),
            Some(Embedded::Refused) => false,
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let special = a == 0 // "this network", 0.0.0.0 included
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b)) // CGNAT
        || (a == 169 && b == 254) // link-local
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 168)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // documentation
        || (a == 198 && b == 51 && c == 100) // documentation
        || (a == 203 && b == 0 && c == 113) // documentation
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 224; // multicast, reserved, broadcast
    !special
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    // Global unicast is 2000::/3; everything else (loopback, unspecified, ULA fc00::/7, link-local
    // fe80::/10, site-local, multicast ff00::/8, discard 100::/64, local NAT64 64:ff9b:1::/48) is not.
    let global = (s[0] & 0xe000) == 0x2000;
    // 2001::/23 is IETF protocol assignments (Teredo included); 2001:db8::/32 and 3fff::/20 documentation.
    let special = match s[0] {
        0x2001 => s[1] < 0x0200 || s[1] == 0x0db8,
        0x3fff => s[1] < 0x1000,
        _ => false,
    };
    global && !special
}

/// What an IPv6 address that carries an IPv4 address in it stands for.
enum Embedded {
    /// Reaches the IPv4 address, so it is judged as that address.
    Judged(Ipv4Addr),
    /// A deprecated form that reaches nothing public.
    Refused,
}

fn embedded_v4(ip: Ipv6Addr) -> Option<Embedded> {
    let s = ip.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(Embedded::Judged(v4)); // ::ffff:a.b.c.d
    }
    if s[..6] == [0, 0, 0, 0, 0, 0] {
        return Some(Embedded::Refused); // IPv4-compatible ::a.b.c.d, and :: and ::1
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(Embedded::Judged(low)); // NAT64 well-known prefix
    }
    if s[0] == 0x2002 {
        let v4 = Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8);
        return Some(Embedded::Judged(v4)); // 6to4
    }
    None
}

/// The IPv4 address an IPv6 address stands for, where it stands for one; else the address itself.
fn unwrap_v4(ip: IpAddr) -> IpAddr {
    let IpAddr::V6(v6) = ip else {
        return ip;
    };
    match embedded_v4(v6) {
        Some(Embedded::Judged(v4)) => IpAddr::V4(v4),
        Some(Embedded::Refused) => v6.to_ipv4().map_or(ip, IpAddr::V4),
        None => ip,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn public_v4_addresses_pass() {
        for s in [
            "1.1.1.1",
            "8.8.8.8",
            "113.160.1.1",
            "100.63.255.255",
            "100.128.0.0",
        ] {
            assert!(is_public(ip(s)), "{s}");
        }
        for s in [
            "172.15.255.255",
            "172.32.0.0",
            "192.167.1.1",
            "198.17.0.1",
            "223.255.255.255",
        ] {
            assert!(is_public(ip(s)), "{s}");
        }
    }

    #[test]
    fn special_v4_addresses_are_refused() {
        for s in [
            "0.0.0.0",
            "0.1.2.3",
            "127.0.0.1",
            "127.255.255.254",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "100.64.0.1",
            "100.127.255.255",
            "169.254.0.1",
            "169.254.169.254",
            "192.0.0.8",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "192.88.99.1",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
        ] {
            assert!(!is_public(ip(s)), "{s}");
        }
    }

    #[test]
    fn public_v6_addresses_pass() {
        for s in [
            "2606:4700:4700::1111",
            "2001:4860:4860::8888",
            "2402:800::1",
            "2a00::1",
            "3fff:1000::1",
        ] {
            assert!(is_public(ip(s)), "{s}");
        }
        // Embedded forms of a public IPv4 address are that address.
        for s in ["::ffff:8.8.8.8", "64:ff9b::8.8.8.8", "2002:0808:0808::1"] {
            assert!(is_public(ip(s)), "{s}");
        }
    }

    #[test]
    fn special_v6_addresses_are_refused() {
        for s in [
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "ff0e::1",
            "100::1",
            "64:ff9b:1::a00:1",
            "2001::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "2001:2::1",
            "2001:db8::1",
            "3fff::1",
            "3fff:fff:ffff::1",
            "fd00:ec2::254",
            "4000::1",
        ] {
            assert!(!is_public(ip(s)), "{s}");
        }
    }

    #[test]
    fn ipv4_inside_ipv6_is_judged_as_the_ipv4_address() {
        for s in [
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:0.0.0.0",
            "::127.0.0.1",
            "::8.8.8.8", // IPv4-compatible: deprecated, reaches nothing public
            "64:ff9b::127.0.0.1",
            "64:ff9b::192.168.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:0001::1",
            "2002:c0a8:0101::1",
            "2002:a9fe:a9fe::1",
        ] {
            assert!(!is_public(ip(s)), "{s}");
        }
    }

    #[test]
    fn metadata_is_refused_even_for_an_allow_listed_host() {
        for s in [
            "169.254.169.254",
            "169.254.170.2",
            "100.100.100.200",
            "fd00:ec2::254",
            "::ffff:169.254.169.254",
            "::169.254.169.254",
            "64:ff9b::169.254.169.254",
            "2002:a9fe:a9fe::",
        ] {
            assert!(is_metadata(ip(s)), "{s}");
            assert_eq!(
                check_address(ip(s), true),
                Err(FetchError::ForbiddenAddress),
                "{s}"
            );
        }
        assert!(!is_metadata(ip("169.254.169.253")));
    }

    #[test]
    fn allow_listed_hosts_may_be_private_others_not() {
        assert_eq!(check_address(ip("127.0.0.1"), true), Ok(()));
        assert_eq!(check_address(ip("10.1.2.3"), true), Ok(()));
        assert_eq!(
            check_address(ip("127.0.0.1"), false),
            Err(FetchError::ForbiddenAddress)
        );
        assert_eq!(check_address(ip("8.8.8.8"), false), Ok(()));
    }

    #[test]
    fn one_forbidden_answer_refuses_the_host() {
        let mixed = [ip("8.8.8.8"), ip("10.0.0.1")];
        assert_eq!(
            check_addresses(&mixed, false),
            Err(FetchError::ForbiddenAddress)
        );
        assert_eq!(check_addresses(&mixed[..1], false), Ok(()));
        assert_eq!(check_addresses(&[], true), Err(FetchError::Unreachable));
    }

    #[test]
    fn https_always_http_only_when_allow_listed() {
        let url = |s: &str| Url::parse(s).unwrap();
        assert_eq!(check_scheme(&url("https://cdn.example/a"), false), Ok(()));
        assert_eq!(check_scheme(&url("http://cdn.example/a"), true), Ok(()));
        for s in [
            "http://cdn.example/a",
            "ftp://cdn.example/a",
            "file:///etc/passwd",
        ] {
            assert_eq!(
                check_scheme(&url(s), false),
                Err(FetchError::ForbiddenScheme),
                "{s}"
            );
        }
        for s in ["ftp://cdn.example/a", "file:///etc/passwd", "gopher://x/"] {
            assert_eq!(
                check_scheme(&url(s), true),
                Err(FetchError::ForbiddenScheme),
                "{s}"
            );
        }
    }

    #[test]
    fn odd_spellings_of_loopback_in_urls_are_normalised_to_it() {
        for s in [
            "http://0x7f.1/",
            "http://2130706433/",
            "http://0177.0.0.1/",
            "http://127.1/",
        ] {
            let url = Url::parse(s).unwrap();
            let Some(url::Host::Ipv4(v4)) = url.host() else {
                panic!("{s} is not read as an IPv4 address");
            };
            assert!(!is_public(IpAddr::V4(v4)), "{s}");
        }
    }
}
