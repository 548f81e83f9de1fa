//! Carts, orders, shipments, returns and the store dashboard.

use super::*;
use actors::cart::service::ShownLine;
use actors::orders::model::{self as om, Order};
use actors::orders::service::SalesFigure;
use actors::storefront::service::LineSpec;

/// An attribute value as the client sends it (string, number or boolean),
/// as the text the catalog matches against.
fn value_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineRequest {
    pub store_id: String,
    pub product_id: String,
    /// `attribute_id → value` (string, number or boolean).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub attributes: BTreeMap<String, serde_json::Value>,
    /// 0–10000 in a cart (0 removes the line); 1–10000 in an order.
    pub quantity: u32,
}

impl From<LineRequest> for LineSpec {
    fn from(l: LineRequest) -> Self {
        LineSpec {
            store_id: l.store_id,
            product_id: l.product_id,
            attributes: l.attributes.iter().map(|(k, v)| (k.clone(), value_text(v))).collect(),
            quantity: l.quantity,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CartQuoteDto {
    pub currency: String,
    pub unit_price: String,
    pub line_total: String,
}

#[derive(Serialize, ToSchema)]
pub struct CartLineDto {
    pub line_id: String,
    pub store_id: String,
    pub product_id: String,
    pub attributes: BTreeMap<String, String>,
    pub quantity: u32,
    /// The line priced now (in the store's currency); absent with `problem`.
    pub quote: Option<CartQuoteDto>,
    /// The unit price moved since the line was last set.
    pub price_changed: bool,
    /// Why the line cannot be bought now: `no_valid_offer`,
    /// `unknown_product`, `attribute_values_changed`, `unknown_store`.
    pub problem: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CartResponse {
    pub lines: Vec<CartLineDto>,
}

impl From<Vec<ShownLine>> for CartResponse {
    fn from(lines: Vec<ShownLine>) -> Self {
        CartResponse {
            lines: lines
                .into_iter()
                .map(|l| CartLineDto {
                    line_id: l.line.line_id,
                    store_id: l.line.spec.store_id,
                    product_id: l.line.spec.product_id,
                    attributes: l.line.spec.attributes,
                    quantity: l.line.spec.quantity,
                    quote: l.quote.map(|q| CartQuoteDto {
                        currency: q.currency,
                        unit_price: q.unit_price,
                        line_total: q.line_total,
                    }),
                    price_changed: l.price_changed,
                    problem: l.problem,
                })
                .collect(),
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactDto {
    pub name: String,
    pub email: String,
    /// E.164, e.g. `+14155550100`.
    pub phone: String,
}

impl From<ContactDto> for om::Contact {
    fn from(c: ContactDto) -> Self {
        om::Contact {
            name: c.name,
            email: c.email,
            phone: c.phone,
        }
    }
}

impl From<om::Contact> for ContactDto {
    fn from(c: om::Contact) -> Self {
        ContactDto {
            name: c.name,
            email: c.email,
            phone: c.phone,
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShippingDto {
    pub contact: ContactDto,
    pub address: AddressDto,
    /// `store_id → shipping method`, one for every store ordered from.
    pub method: BTreeMap<String, String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BillingDto {
    pub contact: ContactDto,
    pub address: Option<AddressDto>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaceOrderRequest {
    /// Default: the cart's lines (which leave the cart once ordered).
    pub lines: Option<Vec<LineRequest>>,
    /// ISO 4217: every price is converted to it with one rate snapshot.
    pub currency: String,
    pub shipping: ShippingDto,
    pub billing: BillingDto,
}

impl From<PlaceOrderRequest> for actors::orders::PlaceRequest {
    fn from(r: PlaceOrderRequest) -> Self {
        Self {
            lines: r.lines.map(|lines| lines.into_iter().map(LineSpec::from).collect()),
            currency: r.currency,
            shipping: om::Shipping {
                contact: r.shipping.contact.into(),
                address: r.shipping.address.into(),
                methods: r.shipping.method,
            },
            billing: om::Billing {
                contact: r.billing.contact.into(),
                address: r.billing.address.map(Into::into),
            },
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct OrderLineDto {
    pub line_id: String,
    pub store_id: String,
    pub product_id: String,
    pub product_version: u32,
    pub attributes: BTreeMap<String, String>,
    pub quantity: u64,
    pub unit_price: String,
    pub line_total: String,
    /// `reserved`, `paid`, `shipped`, `delivered`, `expired`, `cancelled`.
    pub status: String,
    pub paid_quantity: u64,
    /// Units whose money was given back (refunds that succeeded).
    pub refunded_quantity: u64,
    pub reserved_until: String,
    pub warranty_until: String,
    pub shipment_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct FxSnapshotDto {
    pub id: u64,
    pub base: String,
    pub rates: BTreeMap<String, String>,
}

#[derive(Serialize, ToSchema)]
pub struct ShipmentDto {
    pub id: String,
    pub store_id: String,
    pub line_ids: Vec<String>,
    pub carrier: String,
    pub tracking: String,
    pub shipped_at: String,
    pub delivered_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct OrderResponse {
    pub id: String,
    /// `awaiting_payment`, `partially_paid`, `paid`, `shipped`, `delivered`,
    /// `cancelled`, `expired`.
    pub status: String,
    pub lines: Vec<OrderLineDto>,
    /// `store_id → total` in the order's currency.
    pub totals: BTreeMap<String, String>,
    pub total: String,
    pub currency: String,
    /// The rates every converted price used; absent when nothing was converted.
    pub fx_snapshot: Option<FxSnapshotDto>,
    pub shipments: Vec<ShipmentDto>,
    /// The contacts and address given when ordering (the order's own copy,
    /// kept when the buyer's account is deleted); store staff see the
    /// shipping methods of their stores only.
    pub shipping: ShippingDto,
    /// The buyer's billing contact (only the buyer sees it).
    pub billing: Option<BillingDto>,
    pub created_at: String,
    pub updated_at: String,
}

impl OrderResponse {
    /// The order as a viewer sees it: whole, or only `stores`' lines.
    pub fn of(order: &Order, stores: Option<&[String]>) -> Result<Self, actors::Error> {
        let om::OrderView {
            order: view,
            billing,
            status,
            totals,
            total,
        } = order.view(stores)?;
        let created_at = view.created_at;
        Ok(OrderResponse {
            id: view.id.clone(),
            status: status.as_str().to_string(),
            totals,
            total,
            lines: view
                .lines
                .iter()
                .map(|l| OrderLineDto {
                    line_id: l.line_id.clone(),
                    store_id: l.store_id.clone(),
                    product_id: l.product_id.clone(),
                    product_version: l.product_version,
                    attributes: l.attributes.clone(),
                    quantity: l.quantity,
                    unit_price: l.unit_price.clone(),
                    line_total: l.line_total.clone(),
                    status: l.status.as_str().to_string(),
                    paid_quantity: l.paid,
                    refunded_quantity: view.refunded(&l.line_id),
                    reserved_until: rfc3339(l.held_until),
                    warranty_until: rfc3339(l.warranty_until(created_at)),
                    shipment_id: l.shipment_id.clone(),
                })
                .collect(),
            currency: view.currency.clone(),
            fx_snapshot: view.fx.clone().map(|f| FxSnapshotDto {
                id: f.rates_id,
                base: f.base,
                rates: f.rates,
            }),
            shipments: view
                .shipments
                .iter()
                .map(|s| ShipmentDto {
                    id: s.id.clone(),
                    store_id: s.store_id.clone(),
                    line_ids: s.line_ids.clone(),
                    carrier: s.carrier.clone(),
                    tracking: s.tracking.clone(),
                    shipped_at: rfc3339(s.shipped_at),
                    delivered_at: s.delivered_at.map(rfc3339),
                })
                .collect(),
            shipping: ShippingDto {
                contact: view.shipping.contact.clone().into(),
                address: view.shipping.address.clone().into(),
                method: view.shipping.methods.clone(),
            },
            billing: billing.map(|b| BillingDto {
                contact: b.contact.into(),
                address: b.address.map(Into::into),
            }),
            created_at: rfc3339(view.created_at),
            updated_at: rfc3339(view.updated_at),
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct OrderList {
    pub items: Vec<OrderResponse>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentRequest {
    pub line_ids: Vec<String>,
    pub carrier: String,
    pub tracking: String,
}

impl From<ShipmentRequest> for om::ShipmentRequest {
    fn from(r: ShipmentRequest) -> Self {
        om::ShipmentRequest {
            line_ids: r.line_ids,
            carrier: r.carrier,
            tracking: r.tracking,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnLineRequest {
    pub line_id: String,
    pub quantity: u64,
    pub reason: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnRequest {
    pub lines: Vec<ReturnLineRequest>,
}

#[derive(Serialize, ToSchema)]
pub struct ReturnLineDto {
    pub line_id: String,
    pub quantity: u64,
    pub reason: String,
    pub approved_quantity: Option<u64>,
    pub rejected_quantity: Option<u64>,
    pub decision_reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ReturnResponse {
    pub return_id: String,
    pub order_id: String,
    /// `requested`, `approved`, `partially_approved`, `rejected`.
    pub status: String,
    /// What the requested units cost (the most that can be refunded).
    pub refund_amount: String,
    /// Owed for the approved units (paid out by payments).
    pub approved_refund: String,
    pub currency: String,
    pub lines: Vec<ReturnLineDto>,
}

impl ReturnResponse {
    pub fn of(order: &Order, ret: &om::Return) -> Result<Self, actors::Error> {
        Ok(ReturnResponse {
            return_id: ret.id.clone(),
            order_id: order.id.clone(),
            status: ret.status().to_string(),
            refund_amount: ret.refund_amount.clone(),
            approved_refund: ret.approved_refund(order)?,
            currency: order.currency.clone(),
            lines: ret
                .lines
                .iter()
                .map(|l| ReturnLineDto {
                    line_id: l.line_id.clone(),
                    quantity: l.quantity,
                    reason: l.reason.clone(),
                    approved_quantity: l.approved,
                    rejected_quantity: l.rejected,
                    decision_reason: l.decision_reason.clone(),
                })
                .collect(),
        })
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionLine {
    pub line_id: String,
    pub approve_quantity: u64,
    pub reject_quantity: u64,
    #[serde(default)]
    pub reason: String,
    /// Put approved units back in stock (default true).
    pub restock: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    pub lines: Vec<DecisionLine>,
}

#[derive(Serialize, ToSchema)]
pub struct SalesFigureDto {
    pub orders: u64,
    pub units: u64,
    pub revenue: String,
}

#[derive(Serialize, ToSchema)]
pub struct DashboardResponse {
    pub store_id: String,
    pub currency: String,
    /// By the status of the store's part of each order.
    pub by_status: BTreeMap<String, SalesFigureDto>,
}

impl From<SalesFigure> for SalesFigureDto {
    fn from(f: SalesFigure) -> Self {
        SalesFigureDto {
            orders: f.orders,
            units: f.units,
            revenue: f.revenue,
        }
    }
}
