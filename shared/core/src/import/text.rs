//! Text as old systems hand it out: MIME-encoded file names, HTML-only
//! messages, names in URL paths.

use base64::Engine;

/// A path segment: queue names have blanks and umlauts.
pub(crate) fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A file name RT kept MIME-encoded (`=?UTF-8?B?…?=`, as REST2 clients
/// must send non-ASCII names): decoded for UTF-8 and Latin-1, B and Q.
pub(crate) fn decode_words(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("=?") {
        let word = &rest[start + 2..];
        let parts: Vec<&str> = word.splitn(3, '?').collect();
        let decoded = match parts.as_slice() {
            [charset, enc, tail] => tail.find("?=").and_then(|end| {
                let text = &tail[..end];
                let bytes = match enc.to_ascii_uppercase().as_str() {
                    "B" => base64::engine::general_purpose::STANDARD.decode(text).ok()?,
                    "Q" => q_decode(text),
                    _ => return None,
                };
                let charset = charset.to_ascii_lowercase();
                let decoded = if charset == "utf-8" || charset == "us-ascii" {
                    String::from_utf8(bytes).ok()?
                } else if charset == "iso-8859-1" || charset == "latin1" || charset == "windows-1252" {
                    bytes.iter().map(|b| char::from(*b)).collect()
                } else {
                    return None;
                };
                // The word's whole length: "=?" charset "?" enc "?" text "?=".
                Some((decoded, 2 + charset.len() + 1 + enc.len() + 1 + end + 2))
            }),
            _ => None,
        };
        match decoded {
            Some((text, len)) => {
                let between = &rest[..start];
                // Blanks between two encoded words do not count.
                if !between.trim().is_empty() || out.is_empty() {
                    out.push_str(between);
                }
                out.push_str(&text);
                rest = &rest[start + len..];
            }
            None => {
                out.push_str(&rest[..start + 2]);
                rest = &rest[start + 2..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn q_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'='
            && let Some(v) = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(if b[i] == b'_' { b' ' } else { b[i] });
        i += 1;
    }
    out
}

/// Rough text of an HTML-only message, for search and the plain view.
pub(crate) fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").replace("&nbsp;", " ").replace("&quot;", "\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_names_in_paths() {
        assert_eq!(encode("Presse NRW"), "Presse%20NRW");
        assert_eq!(encode("Mitglieder-Bü"), "Mitglieder-B%C3%BC");
    }

    #[test]
    fn encoded_file_names() {
        assert_eq!(
            decode_words("=?UTF-8?B?TWVsZGViZXNjaGVpbmlndW5nIE3DvGxsZXIucGRm?="),
            "Meldebescheinigung Müller.pdf"
        );
        assert_eq!(decode_words("=?ISO-8859-1?Q?Best=E4tigung_neu.txt?="), "Bestätigung neu.txt");
        assert_eq!(decode_words("=?UTF-8?Q?a?= =?UTF-8?Q?b?=.txt"), "ab.txt");
        assert_eq!(decode_words("plain =?x.txt"), "plain =?x.txt");
        assert_eq!(decode_words("Bestätigung.txt"), "Bestätigung.txt");
    }

    #[test]
    fn html_becomes_text() {
        assert_eq!(html_to_text("<p>Hallo &amp; danke</p>").trim(), "Hallo & danke");
    }
}
