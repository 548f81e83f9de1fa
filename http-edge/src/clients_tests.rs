use super::*;
use axum::http::HeaderValue;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn headers(name: &str, values: &[&str]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for value in values {
        map.append(
            axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}

fn proxies(header: ForwardedHeader) -> Proxies {
    Proxies::new(&["10.0.0.0/8".into(), "192.168.1.5".into(), "fd00::/8".into()], header).unwrap()
}

#[test]
fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
    let xff = headers("x-forwarded-for", &["1.2.3.4"]);
    assert_eq!(
        proxies(ForwardedHeader::XForwardedFor).client(ip("203.0.113.9"), &xff),
        ip("203.0.113.9")
    );
    assert_eq!(
        Proxies::default().client(ip("10.1.1.1"), &xff),
        ip("10.1.1.1"),
        "nobody trusted by default"
    );
}

#[test]
fn behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client() {
    let p = proxies(ForwardedHeader::XForwardedFor);
    let forged = headers("x-forwarded-for", &["6.6.6.6, 198.51.100.7", "10.0.0.3"]);
    assert_eq!(
        p.client(ip("10.0.0.2"), &forged),
        ip("198.51.100.7"),
        "the forged first hop is ignored"
    );
    let all_trusted = headers("x-forwarded-for", &["10.0.0.9, 10.0.0.3"]);
    assert_eq!(p.client(ip("10.0.0.2"), &all_trusted), ip("10.0.0.9"));
    assert_eq!(
        p.client(ip("10.0.0.2"), &HeaderMap::new()),
        ip("10.0.0.2"),
        "no header: the proxy"
    );
    let garbage = headers("x-forwarded-for", &["198.51.100.7, nonsense, 10.0.0.3"]);
    assert_eq!(
        p.client(ip("10.0.0.2"), &garbage),
        ip("10.0.0.3"),
        "the walk stops at what does not parse"
    );
    let with_port = headers("x-forwarded-for", &["198.51.100.7:5555"]);
    assert_eq!(p.client(ip("192.168.1.5"), &with_port), ip("198.51.100.7"));
    let v6 = headers("x-forwarded-for", &["2001:db8::7"]);
    assert_eq!(p.client(ip("fd00::1"), &v6), ip("2001:db8::7"));
    let mapped: IpAddr = "::ffff:10.0.0.2".parse().unwrap();
    assert!(p.trusts(mapped), "an IPv4-mapped peer is its IPv4 address");
}

#[test]
fn the_forwarded_header_is_read_only_when_configured() {
    let forwarded = headers(
        "forwarded",
        &[r#"for=6.6.6.6, for="[2001:db8::7]:4711";proto=https, for=10.0.0.3;by=10.0.0.2"#],
    );
    let p = proxies(ForwardedHeader::Forwarded);
    assert_eq!(p.client(ip("10.0.0.2"), &forwarded), ip("2001:db8::7"));
    let xff = proxies(ForwardedHeader::XForwardedFor);
    assert_eq!(
        xff.client(ip("10.0.0.2"), &forwarded),
        ip("10.0.0.2"),
        "a header the proxies do not maintain"
    );
    let hidden = headers("forwarded", &["for=_hidden, for=198.51.100.1"]);
    assert_eq!(p.client(ip("10.0.0.2"), &hidden), ip("198.51.100.1"));
}

#[test]
fn bad_configuration_is_refused() {
    assert!(Proxies::new(&["10.0.0.0/33".into()], ForwardedHeader::default()).is_err());
    assert!(Proxies::new(&["proxy.local".into()], ForwardedHeader::default()).is_err());
    assert_eq!("Forwarded".parse::<ForwardedHeader>(), Ok(ForwardedHeader::Forwarded));
    assert!("x-real-ip".parse::<ForwardedHeader>().is_err());
}
