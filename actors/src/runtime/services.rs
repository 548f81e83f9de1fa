//! Node services: whole-node operations other nodes can call by name (a
//! search over what a node indexes, say), beside entity commands.

use crate::error::{Error, Result};
use futures::future::BoxFuture;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Answers encoded requests with encoded replies.
pub trait NodeService: Send + Sync {
    fn call(&self, body: Vec<u8>) -> BoxFuture<'static, Result<Vec<u8>>>;
}

#[derive(Default)]
pub(crate) struct Services {
    by_name: RwLock<HashMap<String, Arc<dyn NodeService>>>,
}

impl Services {
    pub(crate) fn register(&self, name: &str, service: Arc<dyn NodeService>) {
        if let Ok(mut map) = self.by_name.write() {
            map.insert(name.to_string(), service);
        }
    }

    pub(crate) fn call(&self, name: &str, body: Vec<u8>) -> BoxFuture<'static, Result<Vec<u8>>> {
        let service = self.by_name.read().ok().and_then(|map| map.get(name).cloned());
        match service {
            Some(service) => service.call(body),
            None => {
                let error = Error::unavailable(
                    "incompatible_peer",
                    format!("this node does not offer the service {name}"),
                    5,
                );
                Box::pin(async move { Err(error) })
            }
        }
    }
}
