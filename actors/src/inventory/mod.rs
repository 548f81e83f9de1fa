//! Stock per store × product: batches, reservations, policies (issue 5;
//! the model first, its entity and HTTP mapping next).

pub mod model;
