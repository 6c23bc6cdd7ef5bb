//! The spool directory: drop `.eml` files in, Logbuch takes them. Files are
//! moved to `eingelesen/` only after their mail is stored.

use crate::{AppResult, Logbuch};

impl Logbuch {
    /// Ingests every `.eml` in the spool directory; returns how many mails it stored.
    pub async fn ingest_spool_once(&self) -> AppResult<usize> {
        let dir = self.settings.spool_dir();
        let done = dir.join("eingelesen");
        let mut entries = match tokio::fs::read_dir(&dir).await {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(anyhow::anyhow!("cannot read spool {}: {e}", dir.display()).into()),
        };
        let mut files = Vec::new();
        while let Some(entry) = entries.next_entry().await.map_err(anyhow::Error::new)? {
            let path = entry.path();
            if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("eml"))
                && entry.file_type().await.is_ok_and(|t| t.is_file())
            {
                files.push(path);
            }
        }
        files.sort();
        let mut stored = 0;
        for path in files {
            let bytes = tokio::fs::read(&path).await.map_err(anyhow::Error::new)?;
            if bytes.is_empty() {
                continue; // probably still being written
            }
            self.ingest_raw("spool", &bytes).await?;
            tokio::fs::create_dir_all(&done).await.map_err(anyhow::Error::new)?;
            if let Some(name) = path.file_name() {
                tokio::fs::rename(&path, done.join(name)).await.map_err(anyhow::Error::new)?;
            }
            stored += 1;
        }
        Ok(stored)
    }
}
