//! A checked search request as a tantivy query: every word must match in
//! some text field (scored, BM25, fields weighted), filters must match and
//! add nothing to the score.

use super::document::{Fields, analyzer, eq_term, num_term, tag_key};
use super::query::{AttrFilter, SearchQuery};
use std::ops::Bound;
use tantivy::Term;
use tantivy::query::{AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, RangeQuery, TermQuery};
use tantivy::schema::IndexRecordOption;

/// The words of `text` as the index holds them (folded, stemmed).
pub fn words(text: &str) -> Vec<String> {
    let mut analyzer = analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut out: Vec<String> = Vec::new();
    while let Some(token) = stream.next() {
        if !out.contains(&token.text) {
            out.push(token.text.clone());
        }
    }
    out
}

/// Every scored term of the request: each word in each text field.
pub fn scored_terms(fields: &Fields, query: &SearchQuery) -> Vec<Term> {
    words(&query.text)
        .iter()
        .flat_map(|w| fields.text().map(|(f, _)| Term::from_field_text(f, w)))
        .collect()
}

fn filter(query: Box<dyn Query>) -> (Occur, Box<dyn Query>) {
    (Occur::Must, Box::new(ConstScoreQuery::new(query, 0.0)))
}

fn term(term: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(term, IndexRecordOption::Basic))
}

pub fn build(fields: &Fields, query: &SearchQuery) -> Box<dyn Query> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for word in words(&query.text) {
        let any_field = fields
            .text()
            .into_iter()
            .map(|(field, weight)| {
                let q = TermQuery::new(Term::from_field_text(field, &word), IndexRecordOption::WithFreqs);
                (
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(q), weight)) as Box<dyn Query>,
                )
            })
            .collect();
        clauses.push((Occur::Must, Box::new(BooleanQuery::new(any_field))));
    }
    if let Some(tag) = &query.tag {
        clauses.push(filter(term(Term::from_field_u64(fields.tags, tag_key(tag)))));
    }
    if let Some(store) = &query.store {
        clauses.push(filter(term(Term::from_field_text(fields.store, store))));
    }
    for f in &query.attributes {
        let q: Box<dyn Query> = match f {
            AttrFilter::Equals { attribute, value } => {
                term(Term::from_field_text(fields.attr_eq, &eq_term(attribute, value)))
            }
            AttrFilter::Range { attribute, min, max } => {
                let low = num_term(attribute, min.unwrap_or(f64::NEG_INFINITY));
                let high = num_term(attribute, max.unwrap_or(f64::INFINITY));
                Box::new(RangeQuery::new(
                    Bound::Included(Term::from_field_bytes(fields.attr_num, &low)),
                    Bound::Included(Term::from_field_bytes(fields.attr_num, &high)),
                ))
            }
        };
        clauses.push(filter(q));
    }
    if clauses.is_empty() {
        return Box::new(AllQuery);
    }
    Box::new(BooleanQuery::new(clauses))
}
