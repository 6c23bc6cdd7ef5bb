//! Files from strangers: the type is read from the content, not believed
//! from the browser, and programs are refused.

use crate::{AppError, AppResult};
use logbuch_store::messages::NewFile;

/// The MIME type of `content`, from its first bytes (and, for ZIP-based
/// office files and plain text, the name). `None`: a program, refused.
pub fn sniff_type(filename: &str, content: &[u8]) -> Option<&'static str> {
    let ext = filename.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    let starts = |m: &[u8]| content.starts_with(m);
    if starts(b"MZ")
        || starts(b"\x7fELF")
        || starts(b"\xca\xfe\xba\xbe")
        || starts(b"\xcf\xfa\xed\xfe")
        || starts(b"#!")
    {
        return None;
    }
    Some(if starts(b"%PDF-") {
        "application/pdf"
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if starts(b"\xff\xd8\xff") {
        "image/jpeg"
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        "image/gif"
    } else if content.len() > 12 && starts(b"RIFF") && &content[8..12] == b"WEBP" {
        "image/webp"
    } else if starts(b"PK\x03\x04") {
        match ext.as_str() {
            "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "odt" => "application/vnd.oasis.opendocument.text",
            "ods" => "application/vnd.oasis.opendocument.spreadsheet",
            _ => "application/zip",
        }
    } else if starts(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1") {
        "application/x-ole-storage"
    } else if !content.contains(&0) && std::str::from_utf8(content).is_ok() {
        match ext.as_str() {
            "csv" => "text/csv",
            // Shown as text, never rendered: HTML, SVG and scripts are text here.
            _ => "text/plain",
        }
    } else {
        "application/octet-stream"
    })
}

/// A file as uploaded, before checks.
#[derive(Debug, Clone)]
pub struct Upload {
    pub filename: String,
    pub content: Vec<u8>,
}

/// Names cleaned, total size checked, types sniffed, programs refused.
pub(crate) fn check_uploads(uploads: Vec<Upload>, max_total: usize) -> AppResult<Vec<NewFile>> {
    let total: usize = uploads.iter().map(|u| u.content.len()).sum();
    if total > max_total {
        return Err(AppError::TooLarge(format!(
            "Die Dateien sind zusammen {:.1} MB groß; erlaubt sind {:.0} MB. Bitte wählen Sie kleinere oder weniger Dateien.",
            total as f64 / 1e6,
            max_total as f64 / 1e6
        )));
    }
    let mut out = Vec::new();
    for u in uploads.into_iter().filter(|u| !u.filename.trim().is_empty() || !u.content.is_empty()) {
        let filename: String = u
            .filename
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or_default()
            .trim()
            .chars()
            .map(|c| if c.is_control() { '_' } else { c })
            .take(200)
            .collect();
        let filename = if filename.is_empty() { "datei".to_owned() } else { filename };
        if u.content.is_empty() {
            return Err(AppError::validation("dateien", format!("Die Datei „{filename}“ ist leer.")));
        }
        let Some(content_type) = sniff_type(&filename, &u.content) else {
            return Err(AppError::validation(
                "dateien",
                format!("„{filename}“ ist ein Programm; Programme können wir nicht annehmen."),
            ));
        };
        out.push(NewFile { filename, content_type: content_type.to_owned(), content: u.content });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_content() {
        assert_eq!(sniff_type("rechnung.pdf", b"%PDF-1.7\n..."), Some("application/pdf"));
        assert_eq!(sniff_type("bild.pdf", b"\x89PNG\r\n\x1a\n...."), Some("image/png"), "the name does not decide");
        assert_eq!(
            sniff_type("a.docx", b"PK\x03\x04rest"),
            Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        );
        assert_eq!(sniff_type("seite.html", b"<script>alert(1)</script>"), Some("text/plain"));
        assert_eq!(sniff_type("x.bin", &[0, 1, 2, 3]), Some("application/octet-stream"));
        assert_eq!(sniff_type("setup.pdf", b"MZ\x90\x00"), None);
        assert_eq!(sniff_type("run.sh", b"#!/bin/sh\nrm -rf /"), None);
    }

    #[test]
    fn uploads_are_checked_together() {
        let u = |n: &str, c: &[u8]| Upload { filename: n.into(), content: c.to_vec() };
        assert!(matches!(check_uploads(vec![u("a", &[1; 6]), u("b", &[1; 6])], 10), Err(AppError::TooLarge(_))));
        let ok = check_uploads(vec![u("C:\\Users\\x\\brief.txt", b"Hallo")], 10).unwrap();
        assert_eq!((ok[0].filename.as_str(), ok[0].content_type.as_str()), ("brief.txt", "text/plain"));
        assert!(check_uploads(vec![u("", b"")], 10).unwrap().is_empty(), "an empty file input is no file");
        assert!(matches!(check_uploads(vec![u("x.exe", b"MZ..")], 10), Err(AppError::Validation { .. })));
    }
}
