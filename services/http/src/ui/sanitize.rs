//! Mail HTML is untrusted: what reaches the page keeps its text and simple
//! formatting, and nothing that runs (scripts, event handlers, `javascript:`
//! links) or loads anything from elsewhere (images, styles, frames, fonts).

use std::collections::HashSet;

/// The mail's HTML, safe to put into a page.
pub fn mail_html(untrusted: &str) -> String {
    let tags: HashSet<&str> = [
        "a",
        "b",
        "blockquote",
        "br",
        "code",
        "div",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "hr",
        "i",
        "li",
        "ol",
        "p",
        "pre",
        "s",
        "span",
        "strong",
        "sub",
        "sup",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "u",
        "ul",
    ]
    .into_iter()
    .collect();
    ammonia::Builder::default()
        .tags(tags)
        // No img, style, iframe, form …: nothing is fetched, nothing runs.
        .generic_attributes(HashSet::new())
        .tag_attributes(std::iter::once(("a", ["href", "title"].into_iter().collect())).collect())
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(untrusted)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::mail_html;

    #[test]
    fn nothing_runs_or_loads() {
        let out = mail_html(
            r#"<p onclick="x()">Hallo <b>Welt</b></p><script>alert(1)</script>
<img src="https://tracker.example/pixel.gif" onerror="alert(2)">
<a href="javascript:alert(3)">klick</a> <a href="https://piratenpartei.de">ok</a>
<style>body{background:url(https://x.example/a.png)}</style><iframe src="https://x.example"></iframe>
<div style="background:url(https://x.example/b.png)">Text</div>"#,
        );
        for bad in ["<script", "onclick", "onerror", "<img", "javascript:", "<style", "<iframe", "style=", "x.example"]
        {
            assert!(!out.contains(bad), "{bad} survived: {out}");
        }
        assert!(out.contains("<b>Welt</b>") && out.contains("Text"), "{out}");
        assert!(out.contains(r#"href="https://piratenpartei.de""#) && out.contains("noopener"), "{out}");
    }
}
