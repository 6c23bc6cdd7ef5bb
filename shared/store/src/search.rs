//! Full-text search. Documents are added as tickets and messages are
//! written (never rebuilt), so a ticket with thousands of messages costs no
//! more per new message than one with none.
//!
//! Query language (both databases): words must all occur; `"a phrase"`;
//! `austr*` for a prefix. PostgreSQL stems German words (Austritte finds
//! Austritt); SQLite's FTS5 folds case and diacritics but does not stem.

use crate::Result;
use crate::entity::ticket;
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Order, Query};
use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionSession, TransactionTrait, Value};

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
    add_documents(db, &[(ticket_id, text.to_owned())]).await
}

/// Adds several search documents in one statement (PostgreSQL stems them in
/// German and copies each ticket's tenant; a document of a ticket that does
/// not exist is left out).
pub async fn add_documents(db: &impl ConnectionTrait, docs: &[(i64, String)]) -> Result<()> {
    if docs.is_empty() {
        return Ok(());
    }
    let backend = db.get_database_backend();
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(docs.len() * 2);
    let mut rows = Vec::with_capacity(docs.len());
    for (i, (ticket, text)) in docs.iter().enumerate() {
        values.push((*ticket).into());
        values.push(truncated(text).to_owned().into());
        rows.push(if backend == DbBackend::Postgres {
            format!("(${}::bigint, ${}::text)", 2 * i + 1, 2 * i + 2)
        } else {
            "(?, ?)".to_owned()
        });
    }
    let sql = if backend == DbBackend::Postgres {
        format!(
            "INSERT INTO search_docs (ticket_id, tenant_id, document) \
             SELECT t.id, t.tenant_id, to_tsvector('german', v.doc) FROM (VALUES {}) AS v(id, doc) \
             JOIN tickets t ON t.id = v.id",
            rows.join(", ")
        )
    } else {
        format!("INSERT INTO search_docs (ticket_id, content) VALUES {}", rows.join(", "))
    };
    db.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await?;
    Ok(())
}

/// Documents considered on PostgreSQL: the newest this many matches in the
/// caller's scope and filters are ranked. A rare word has fewer matches, so
/// all of them are ranked; a common word ranks its newest matches instead of
/// reading hundreds of thousands of documents.
pub const CANDIDATES: u64 = 200;
/// Deepest result reachable by paging.
pub const MAX_CANDIDATES: u64 = 10_000;

/// The query as one PostgreSQL `tsquery` expression with `$n` placeholders
/// (numbered within the expression, as sea-query's custom expressions want).
fn pg_tsquery(terms: &[Term]) -> (String, Vec<Value>) {
    let mut parts = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    for t in terms {
        let (Term::Word(w) | Term::Phrase(w) | Term::Prefix(w)) = t;
        values.push(w.clone().into());
        let n = values.len();
        parts.push(match t {
            Term::Word(_) => format!("plainto_tsquery('german', ${n})"),
            Term::Phrase(_) => format!("phraseto_tsquery('german', ${n})"),
            // A prefix: the word's lexemes (unstemmed), each as a prefix.
            Term::Prefix(_) => format!(
                "(SELECT COALESCE(to_tsquery('simple', string_agg(quote_literal(lexeme) || ':*', ' & ')), \
                 plainto_tsquery('')) FROM unnest(to_tsvector('simple', ${n})))"
            ),
        });
    }
    (format!("({})", parts.join(" && ")), values)
}

/// The query in FTS5's syntax (SQLite).
fn fts5_query(terms: &[Term]) -> String {
    terms
        .iter()
        .map(|t| match t {
            Term::Word(w) | Term::Phrase(w) => format!("\"{}\"", w.replace('"', "")),
            Term::Prefix(p) => format!("\"{}\"*", p.replace('"', "")),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Which page of which tickets a search looks at.
pub struct Page<'a> {
    /// The only tenants whose documents may match (none: all).
    pub tenants: Option<&'a [i64]>,
    /// Conditions on `tickets`, the tenant included (SQLite uses these).
    pub with_tenant: Condition,
    /// The same without the tenant, which PostgreSQL takes from `tenants`.
    pub beside_tenant: Condition,
    pub offset: u64,
    pub limit: u64,
}

/// One page of the tickets matching `terms`, best first: ticket ids. The
/// caller reads the tickets through its scope, which protects; the
/// conditions here make sure a page is full of tickets the caller may see.
pub async fn ranked_page<C>(db: &C, terms: &[Term], page: Page<'_>) -> Result<Vec<i64>>
where
    C: ConnectionTrait + TransactionTrait,
{
    let Page { tenants, with_tenant, beside_tenant, offset, limit } = page;
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let docs = || Alias::new("search_docs");
    let col = |c: &str| (Alias::new("search_docs"), Alias::new(c));
    let mut query = Query::select();
    if backend == DbBackend::Postgres {
        let (tsq, values) = pg_tsquery(terms);
        let mut newest = Query::select();
        newest
            .column(col("ticket_id"))
            .column(col("document"))
            .from(docs())
            .and_where(Expr::cust_with_values(format!("search_docs.document @@ {tsq}"), values.clone()))
            .order_by(col("id"), Order::Desc)
            .limit(Ord::clamp(offset + limit, CANDIDATES, MAX_CANDIDATES));
        if let Some(t) = tenants {
            newest.and_where(Expr::col(col("tenant_id")).is_in(t.iter().copied()));
        }
        // Tickets are read only when a filter needs them.
        if !beside_tenant.is_empty() {
            newest
                .inner_join(ticket::Entity, Expr::col((ticket::Entity, ticket::Column::Id)).equals(col("ticket_id")))
                .cond_where(beside_tenant);
        }
        query
            .column(Alias::new("ticket_id"))
            .expr_as(Expr::cust_with_values(format!("MAX(ts_rank(hits.document, {tsq}))"), values), "rank")
            .from_subquery(newest, Alias::new("hits"))
            .group_by_col(Alias::new("ticket_id"));
    } else {
        // FTS5 ranks only in the query that matches; grouping and the scope come outside.
        let mut matching = Query::select();
        matching
            .column(col("ticket_id"))
            .expr_as(Expr::cust("-bm25(search_docs)"), "rank")
            .from(docs())
            .and_where(Expr::cust_with_values("search_docs MATCH ?", [fts5_query(terms)]))
            // A LIMIT keeps SQLite from folding this query into the grouping one.
            .limit(u64::from(u32::MAX));
        query
            .expr_as(Expr::col((Alias::new("hits"), Alias::new("ticket_id"))), "ticket_id")
            .expr_as(Expr::cust("MAX(hits.rank)"), "rank")
            .from_subquery(matching, Alias::new("hits"))
            .inner_join(
                ticket::Entity,
                Expr::col((ticket::Entity, ticket::Column::Id)).equals((Alias::new("hits"), Alias::new("ticket_id"))),
            )
            .cond_where(with_tenant)
            .group_by_col((Alias::new("hits"), Alias::new("ticket_id")));
    }
    query
        .order_by(Alias::new("rank"), Order::Desc)
        .order_by(Alias::new("ticket_id"), Order::Desc)
        .limit(limit)
        .offset(offset);
    let rows = if backend == DbBackend::Postgres {
        // Planned with the words at hand, never from a cached generic plan:
        // a rare word wants the full-text index, a common one the newest documents.
        let txn = db.begin().await?;
        txn.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan").await?;
        let rows = txn.query_all_raw(backend.build(&query)).await?;
        txn.commit().await?;
        rows
    } else {
        db.query_all_raw(backend.build(&query)).await?
    };
    rows.iter().map(|r| Ok(r.try_get_by_index::<i64>(0)?)).collect()
}

/// After a ticket changed tenant: its documents follow (PostgreSQL keeps the tenant beside them).
pub async fn move_documents(db: &impl ConnectionTrait, ticket_id: i64, tenant_id: i64) -> Result<()> {
    let backend = db.get_database_backend();
    if backend == DbBackend::Postgres {
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            "UPDATE search_docs SET tenant_id = $1 WHERE ticket_id = $2",
            [tenant_id.into(), ticket_id.into()],
        ))
        .await?;
    }
    Ok(())
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
