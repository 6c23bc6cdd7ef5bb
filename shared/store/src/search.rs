//! Full-text search. Documents are added as tickets and messages are
//! written (never rebuilt), so a ticket with thousands of messages costs no
//! more per new message than one with none.
//!
//! Query language (both databases): words must all occur; `"a phrase"`;
//! `austr*` for a prefix. PostgreSQL stems German words (Austritte finds
//! Austritt); SQLite's FTS5 folds case and diacritics but does not stem.

use crate::Result;
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

/// Longest text indexed per document.
const MAX_INDEXED: usize = 100_000;

/// A parsed search: the parts that must all match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    Word(String),
    Prefix(String),
    Phrase(String),
}

/// Splits a search line into words, prefixes and quoted phrases.
pub fn parse_query(q: &str) -> Vec<Term> {
    let mut out = Vec::new();
    let mut rest = q.trim();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('"') {
            let end = after.find('"').unwrap_or(after.len());
            let phrase: String = after[..end].split_whitespace().collect::<Vec<_>>().join(" ");
            if !phrase.is_empty() {
                out.push(Term::Phrase(phrase));
            }
            rest = after.get(end + 1..).unwrap_or("").trim_start();
            continue;
        }
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let token = &rest[..end];
        rest = rest[end..].trim_start();
        let clean: String =
            token.chars().filter(|c| c.is_alphanumeric() || *c == '-' || *c == '@' || *c == '.').collect();
        let clean = clean.trim_matches(|c: char| c == '-' || c == '.').to_owned();
        if clean.is_empty() {
            continue;
        }
        if token.ends_with('*') && clean.chars().count() >= 2 {
            out.push(Term::Prefix(clean));
        } else {
            out.push(Term::Word(clean));
        }
    }
    out
}

fn truncated(s: &str) -> &str {
    match s.char_indices().nth(MAX_INDEXED) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Adds a search document for a ticket.
pub async fn add_document(db: &impl ConnectionTrait, ticket_id: i64, text: &str) -> Result<()> {
    let backend = db.get_database_backend();
    let text = truncated(text).to_owned();
    let stmt = if backend == DbBackend::Postgres {
        Statement::from_sql_and_values(
            backend,
            "INSERT INTO search_docs (ticket_id, document) VALUES ($1, to_tsvector('german', $2))",
            [ticket_id.into(), text.into()],
        )
    } else {
        Statement::from_sql_and_values(
            backend,
            "INSERT INTO search_docs (ticket_id, content) VALUES (?, ?)",
            [ticket_id.into(), text.into()],
        )
    };
    db.execute_raw(stmt).await?;
    Ok(())
}

/// Tickets matching the query, best first, with their rank (higher is better); at most `limit`.
pub async fn matching_tickets(db: &impl ConnectionTrait, terms: &[Term], limit: u64) -> Result<Vec<(i64, f64)>> {
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let stmt = if backend == DbBackend::Postgres {
        let mut parts = Vec::new();
        let mut values: Vec<Value> = Vec::new();
        for t in terms {
            values.push(match t {
                Term::Word(w) | Term::Phrase(w) => w.clone().into(),
                Term::Prefix(p) => p.clone().into(),
            });
            let n = values.len();
            parts.push(match t {
                Term::Word(_) => format!("plainto_tsquery('german', ${n})"),
                Term::Phrase(_) => format!("phraseto_tsquery('german', ${n})"),
                // A prefix: the stemmed word's lexemes, each as a prefix.
                Term::Prefix(_) => format!(
                    "(SELECT COALESCE(to_tsquery('simple', string_agg(quote_literal(lexeme) || ':*', ' & ')), plainto_tsquery('')) \
                     FROM unnest(to_tsvector('simple', ${n})))"
                ),
            });
        }
        // Documents, best first; several documents of one ticket are folded below.
        values.push((limit.saturating_mul(5)).into());
        let q = parts.join(" && ");
        Statement::from_sql_and_values(
            backend,
            format!(
                "SELECT ticket_id, ts_rank(document, query.q)::float8 AS rank FROM search_docs, (SELECT {q} AS q) AS query \
                 WHERE document @@ query.q ORDER BY rank DESC, ticket_id DESC LIMIT ${}",
                values.len()
            ),
            values,
        )
    } else {
        let expr = terms
            .iter()
            .map(|t| match t {
                Term::Word(w) | Term::Phrase(w) => format!("\"{}\"", w.replace('"', "")),
                Term::Prefix(p) => format!("\"{}\"*", p.replace('"', "")),
            })
            .collect::<Vec<_>>()
            .join(" ");
        Statement::from_sql_and_values(
            backend,
            "SELECT ticket_id, -bm25(search_docs) AS rank FROM search_docs WHERE search_docs MATCH ? \
             ORDER BY bm25(search_docs), ticket_id DESC LIMIT ?",
            [expr.into(), limit.saturating_mul(5).into()],
        )
    };
    let rows = db.query_all_raw(stmt).await?;
    let mut out: Vec<(i64, f64)> = Vec::new();
    for r in rows {
        let id: i64 = r.try_get_by_index(0)?;
        if !out.iter().any(|(t, _)| *t == id) {
            out.push((id, r.try_get_by_index(1)?));
        }
    }
    out.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_parse() {
        assert_eq!(
            parse_query(r#"Austritt "zum 31. März" beitr* x@y.de -- "#),
            vec![
                Term::Word("Austritt".into()),
                Term::Phrase("zum 31. März".into()),
                Term::Prefix("beitr".into()),
                Term::Word("x@y.de".into()),
            ]
        );
        assert_eq!(parse_query("  "), vec![]);
        assert_eq!(parse_query("a* \"unclosed"), vec![Term::Word("a".into()), Term::Phrase("unclosed".into())]);
    }
}
