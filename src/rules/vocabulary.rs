//! Istio's closed sets of names, as enums: a rule matches on a variant, never on a string it
//! could misspell. Each parses the name as Istio does and keeps what it does not know, so that
//! a message can quote it.

use std::fmt;

/// Declares a closed set: variants with their Istio names, plus `Other` for a name outside it.
macro_rules! closed_set {
    ($(#[$meta:meta])* $name:ident, case_insensitive: $insensitive:literal, { $($variant:ident => $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum $name {
            $(#[doc = concat!("`", $text, "`")] $variant,)*
            /// A name Istio does not know, as written.
            Other(String),
        }

        impl $name {
            /// The set's member `text` names.
            pub fn parse(text: &str) -> Self {
                $(
                    if (!$insensitive && text == $text) || ($insensitive && text.eq_ignore_ascii_case($text)) {
                        return $name::$variant;
                    }
                )*
                $name::Other(text.to_string())
            }

            /// Istio's name (as written, for `Other`).
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)*
                    $name::Other(text) => text,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

closed_set! {
    /// `ServiceEntry.spec.resolution`.
    Resolution, case_insensitive: false, {
        None => "NONE",
        Static => "STATIC",
        Dns => "DNS",
        DnsRoundRobin => "DNS_ROUND_ROBIN",
        DynamicDns => "DYNAMIC_DNS",
    }
}

closed_set! {
    /// A port's `protocol`; Istio reads it without regard to case.
    Protocol, case_insensitive: true, {
        Http => "HTTP",
        Https => "HTTPS",
        Http2 => "HTTP2",
        HttpProxy => "HTTP_PROXY",
        Grpc => "GRPC",
        GrpcWeb => "GRPC-WEB",
        Tls => "TLS",
        Tcp => "TCP",
        Udp => "UDP",
        Mongo => "MONGO",
        Redis => "REDIS",
        Mysql => "MYSQL",
    }
}

impl Protocol {
    /// Whether the protocol's traffic names its host (HTTP `Host`, TLS SNI), so several hosts
    /// can share a port.
    pub fn names_its_host(&self) -> bool {
        matches!(
            self,
            Protocol::Http
                | Protocol::Http2
                | Protocol::HttpProxy
                | Protocol::Grpc
                | Protocol::GrpcWeb
                | Protocol::Https
                | Protocol::Tls
        )
    }
}

closed_set! {
    /// A DestinationRule's `trafficPolicy.tls.mode`.
    TlsMode, case_insensitive: false, {
        Disable => "DISABLE",
        Simple => "SIMPLE",
        Mutual => "MUTUAL",
        IstioMutual => "ISTIO_MUTUAL",
    }
}

closed_set! {
    /// A DestinationRule's `loadBalancer.simple`.
    SimpleLoadBalancer, case_insensitive: false, {
        Unspecified => "UNSPECIFIED",
        LeastConn => "LEAST_CONN",
        Random => "RANDOM",
        Passthrough => "PASSTHROUGH",
        RoundRobin => "ROUND_ROBIN",
        LeastRequest => "LEAST_REQUEST",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_as_istio_reads_them() {
        assert_eq!(Resolution::parse("DNS"), Resolution::Dns);
        assert_eq!(Resolution::parse("dns"), Resolution::Other("dns".into()));
        assert_eq!(Protocol::parse("grpc-web"), Protocol::GrpcWeb);
        assert_eq!(Protocol::parse("tcp"), Protocol::Tcp);
        assert_eq!(Protocol::parse("SPDY").to_string(), "SPDY");
        assert!(Protocol::Tls.names_its_host() && !Protocol::Tcp.names_its_host());
        assert_eq!(
            SimpleLoadBalancer::parse("LEAST_CONN"),
            SimpleLoadBalancer::LeastConn
        );
        assert_eq!(TlsMode::parse("ISTIO_MUTUAL").as_str(), "ISTIO_MUTUAL");
    }
}
