//! Runtime metrics, registered into the node's Prometheus registry.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone)]
pub struct RuntimeMetrics {
    pub live_entities: Gauge,
    pub activations: Counter,
    pub passivations: Counter,
    pub flushes: Counter,
    pub flush_batch_size: Histogram,
    pub flush_seconds: Histogram,
    /// Bytes held by this node's search index (set by the indexer).
    pub search_index_bytes: Gauge,
}

impl Default for RuntimeMetrics {
    fn default() -> Self {
        Self {
            live_entities: Gauge::default(),
            activations: Counter::default(),
            passivations: Counter::default(),
            flushes: Counter::default(),
            flush_batch_size: Histogram::new([1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0]),
            flush_seconds: Histogram::new([0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25]),
            search_index_bytes: Gauge::default(),
        }
    }
}

impl RuntimeMetrics {
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "live_entities",
            "Entity actors currently active on this node",
            self.live_entities.clone(),
        );
        registry.register(
            "entity_activations",
            "Entity activations (rehydrations from storage)",
            self.activations.clone(),
        );
        registry.register(
            "entity_passivations",
            "Entities passivated for idleness or the live-entity cap",
            self.passivations.clone(),
        );
        registry.register("storage_flushes", "Group-commit flushes", self.flushes.clone());
        registry.register(
            "storage_flush_batch_size",
            "Writers made durable by one flush",
            self.flush_batch_size.clone(),
        );
        registry.register(
            "storage_flush_seconds",
            "Duration of one flush",
            self.flush_seconds.clone(),
        );
        registry.register(
            "search_index_bytes",
            "Bytes held by this node's search index",
            self.search_index_bytes.clone(),
        );
    }
}
