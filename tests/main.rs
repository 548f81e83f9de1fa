#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Black-box tests of the shop: HTTP scenarios against the real application
//! and process-level tests against the real `node` binary.

mod cluster;
mod cluster_harness;
mod cluster_media;
mod cluster_orders;
mod cluster_search;
mod http_access;
mod http_accounts;
mod http_admin;
mod http_catalog;
mod http_clients;
mod http_connections;
mod http_limits;
mod http_media;
mod http_media_serving;
mod http_media_variants;
mod http_ops;
mod http_order_flows;
mod http_orders;
mod http_payments;
mod http_products;
mod http_refunds;
mod http_search;
mod http_stock;
mod http_stores;
mod localstripe;
mod media_shop;
mod order_shop;
mod pay_shop;
mod process;
mod process_media;
mod process_orders;
mod process_payments;
mod stripe_payments;
mod support;
