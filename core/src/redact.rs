//! Credentials hidden from `Debug` output: request headers and query parameters that
//! carry one show `<redacted>` for their value (the byte transport's handshake `Request`,
//! the Session's `TransportRequest`).

/// Whether a header or query parameter of this name carries a credential, so `Debug`
/// output shows `<redacted>` for its value: `Authorization`, `Proxy-Authorization`,
/// `Cookie`, and any name containing `token` (the resume token's `ss_token` / `ss-token`;
/// keep `token` in the name if you rename it). Case-insensitive.
pub fn is_sensitive(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(name.as_str(), "authorization" | "proxy-authorization" | "cookie") || name.contains("token")
}

/// Headers for `Debug`: sensitive values (see [`is_sensitive`]) shown as `<redacted>`.
pub(crate) fn redact_headers(headers: &[(String, String)]) -> Vec<(&str, &str)> {
    headers
        .iter()
        .map(|(n, v)| (n.as_str(), if is_sensitive(n) { "<redacted>" } else { v.as_str() }))
        .collect()
}

/// A URL or request target for `Debug`: sensitive query values shown as `<redacted>`.
pub(crate) fn redact_query(url: &str) -> String {
    let Some((base, rest)) = url.split_once('?') else {
        return url.to_string();
    };
    let (query, fragment) = match rest.find('#') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let params: Vec<String> = query
        .split('&')
        .map(|p| match p.split_once('=') {
            Some((k, _)) if is_sensitive(k) => format!("{k}=<redacted>"),
            _ => p.to_string(),
        })
        .collect();
    format!("{base}?{}{fragment}", params.join("&"))
}
