//! Tags, attributes and products.

use super::*;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTagRequest {
    /// 1–64 characters, unique among its siblings (case-insensitive).
    pub name: String,
    pub parent_id: Option<String>,
}

/// Fields left out stay; `parent_id: null` makes the tag a root.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchTagRequest {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub parent_id: Option<Option<String>>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TagQuery {
    /// How many levels of descendants to include (1–16, default 1).
    pub descendants_depth: Option<usize>,
}

#[derive(Serialize, ToSchema)]
pub struct TagRefDto {
    pub id: String,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct TagNodeDto {
    pub id: String,
    pub name: String,
    #[schema(no_recursion)]
    pub children: Vec<TagNodeDto>,
}

impl From<actors::catalog::model::TagNode> for TagNodeDto {
    fn from(n: actors::catalog::model::TagNode) -> Self {
        Self {
            id: n.id,
            name: n.name,
            children: n.children.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TagResponse {
    pub id: String,
    pub name: String,
    pub parent_id: Option<String>,
    /// From the root down to the parent.
    pub ancestors: Vec<TagRefDto>,
    pub children: Vec<TagNodeDto>,
}

impl From<actors::catalog::model::TagView> for TagResponse {
    fn from(v: actors::catalog::model::TagView) -> Self {
        Self {
            id: v.id,
            name: v.name,
            parent_id: v.parent_id,
            ancestors: v
                .ancestors
                .into_iter()
                .map(|a| TagRefDto { id: a.id, name: a.name })
                .collect(),
            children: v.children.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TagList {
    pub items: Vec<TagNodeDto>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAttributeRequest {
    pub name: String,
    /// `integer`, `decimal`, `string`, `boolean` or `enum`.
    pub kind: String,
    /// The allowed values of an `enum`.
    pub values: Option<Vec<String>>,
    pub unit: Option<String>,
}

/// Fields left out stay; `unit: null` removes the unit.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchAttributeRequest {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub values: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub unit: Option<Option<String>>,
}

#[derive(Serialize, ToSchema)]
pub struct AttributeResponse {
    pub id: String,
    pub name: String,
    pub kind: &'static str,
    pub values: Vec<String>,
    pub unit: Option<String>,
    /// Whether products use it (then its kind cannot change).
    pub in_use: bool,
    pub created_at: String,
}

impl From<actors::catalog::attributes::AttributeDef> for AttributeResponse {
    fn from(d: actors::catalog::attributes::AttributeDef) -> Self {
        Self {
            in_use: d.uses > 0,
            kind: d.kind.as_str(),
            id: d.id,
            name: d.name,
            values: d.values,
            unit: d.unit,
            created_at: rfc3339(d.created_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AttributeList {
    pub items: Vec<AttributeResponse>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AttributeQuery {
    /// Part of the name, case-insensitive.
    pub q: Option<String>,
    /// 1–200, default 50.
    pub limit: Option<usize>,
}

/// One attribute value of a product.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ProductAttributeInput {
    pub attribute_id: String,
    /// Of the attribute's kind: a JSON integer, number or decimal string,
    /// string, boolean, or one of an enum's values.
    #[schema(value_type = Object)]
    pub value: serde_json::Value,
}

/// A product as sent. For PATCH, fields left out stay as they are; for PUT
/// and POST, they take their defaults (`name` is required).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductRequest {
    pub name: Option<String>,
    pub description: Option<String>,
    pub visible: Option<bool>,
    pub tag_ids: Option<Vec<String>>,
    pub attributes: Option<Vec<ProductAttributeInput>>,
    pub media_ids: Option<Vec<String>>,
}

impl From<ProductRequest> for actors::catalog::products::ProductDraft {
    fn from(r: ProductRequest) -> Self {
        Self {
            name: r.name,
            description: r.description,
            visible: r.visible,
            tag_ids: r.tag_ids,
            attributes: r.attributes.map(|list| {
                list.into_iter()
                    .map(|a| (a.attribute_id, a.value.to_string()))
                    .collect()
            }),
            media_ids: r.media_ids,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ProductTag {
    pub id: String,
    pub name: String,
    pub ancestors: Vec<TagRefDto>,
}

#[derive(Serialize, ToSchema)]
pub struct ProductAttribute {
    pub attribute_id: String,
    pub name: String,
    pub kind: &'static str,
    pub unit: Option<String>,
    #[schema(value_type = Object)]
    pub value: serde_json::Value,
}

#[derive(Serialize, ToSchema)]
pub struct ProductResponse {
    pub id: String,
    pub owner_id: String,
    pub version: u32,
    pub name: String,
    pub description: String,
    pub visible: bool,
    pub tags: Vec<ProductTag>,
    pub attributes: Vec<ProductAttribute>,
    pub media_ids: Vec<String>,
    /// The named media anyone may see, with where each is served.
    pub media: Vec<ProductMediaDto>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct ProductMediaDto {
    pub id: String,
    pub content_type: String,
    pub content_url: String,
    pub variants: Vec<ProductVariantDto>,
}

#[derive(Serialize, ToSchema)]
pub struct ProductVariantDto {
    pub name: String,
    pub url: String,
    pub width: u32,
    pub height: u32,
}

impl From<actors::catalog::product_flows::ProductView> for ProductResponse {
    fn from(p: actors::catalog::product_flows::ProductView) -> Self {
        Self {
            id: p.id,
            owner_id: p.owner_id,
            version: p.version.version,
            name: p.version.name,
            description: p.version.description,
            visible: p.version.visible,
            tags: p
                .tags
                .into_iter()
                .map(|t| ProductTag {
                    id: t.id,
                    name: t.name,
                    ancestors: t
                        .ancestors
                        .into_iter()
                        .map(|a| TagRefDto { id: a.id, name: a.name })
                        .collect(),
                })
                .collect(),
            attributes: p
                .attributes
                .into_iter()
                .map(|(def, value)| ProductAttribute {
                    value: value.to_json(),
                    attribute_id: def.id,
                    name: def.name,
                    kind: def.kind.as_str(),
                    unit: def.unit,
                })
                .collect(),
            media_ids: p.version.media_ids,
            media: p
                .media
                .into_iter()
                .map(|m| ProductMediaDto {
                    id: m.id,
                    content_type: m.content_type,
                    content_url: m.content_url,
                    variants: m
                        .variants
                        .into_iter()
                        .map(|(name, url, width, height)| ProductVariantDto {
                            name,
                            url,
                            width,
                            height,
                        })
                        .collect(),
                })
                .collect(),
            created_at: rfc3339(p.created_at),
            updated_at: rfc3339(p.version.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ProductPage {
    pub items: Vec<ProductResponse>,
    pub next_cursor: Option<String>,
}

/// The query of `GET /api/v1/products` (documentation; read as raw pairs so
/// `attr.<id>` can carry any attribute id).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct SearchParams {
    /// Words, matched with stemming and case folding in names, descriptions,
    /// tag names and string attribute values; all must match.
    pub q: Option<String>,
    /// A tag id: products with it or any of its descendants.
    pub tag: Option<String>,
    /// A store id: products it offers now (priced by it).
    pub store: Option<String>,
    /// Lowest price (decimal string) in `currency`.
    pub min_price: Option<String>,
    /// Highest price (decimal string) in `currency`.
    pub max_price: Option<String>,
    /// Currency prices are shown, filtered and sorted in (default USD).
    pub currency: Option<String>,
    /// relevance (default with `q`), newest (default without), price_asc, price_desc.
    pub sort: Option<String>,
    /// 1–100, default 20.
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// `attr.<attribute_id>=<value>` or `=<min>..<max>` (either bound optional); repeatable per attribute.
    #[serde(rename = "attr.{id}")]
    #[param(rename = "attr.{id}")]
    pub attr: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PriceDto {
    /// Decimal string with the currency's decimals.
    pub amount: String,
    pub currency: String,
    /// The store asking it (the lowest current offer).
    pub store_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct SearchItem {
    pub id: String,
    pub owner_id: String,
    pub version: u32,
    pub name: String,
    /// The start of the description.
    pub description: String,
    pub tags: Vec<TagRefDto>,
    /// The lowest current offer in the asked currency, if any store offers it.
    pub price: Option<PriceDto>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct TagFacet {
    pub id: String,
    pub name: String,
    /// Matching products with this tag or a descendant.
    pub count: u64,
}

#[derive(Serialize, ToSchema)]
pub struct SearchResponse {
    pub items: Vec<SearchItem>,
    pub next_cursor: Option<String>,
    /// Matching products in all.
    pub total: u64,
    /// Counts per tag over all matching products, most frequent first.
    pub facets: Vec<TagFacet>,
    /// A node holding part of the catalog did not answer (it is down): its
    /// products are missing from this answer.
    pub incomplete: bool,
}

impl From<actors::search::SearchPage> for SearchResponse {
    fn from(page: actors::search::SearchPage) -> Self {
        Self {
            items: page
                .items
                .into_iter()
                .map(|h| SearchItem {
                    id: h.product.id,
                    owner_id: h.product.owner_id,
                    version: h.product.version,
                    name: h.product.name,
                    description: h.product.description,
                    tags: h
                        .product
                        .tags
                        .into_iter()
                        .map(|t| TagRefDto { id: t.id, name: t.name })
                        .collect(),
                    price: h.price.map(|p| PriceDto {
                        amount: p.amount,
                        currency: p.currency,
                        store_id: p.store_id,
                    }),
                    created_at: rfc3339(h.product.created_at),
                    updated_at: rfc3339(h.product.updated_at),
                })
                .collect(),
            next_cursor: page.next_cursor,
            total: page.total,
            incomplete: page.incomplete,
            facets: page
                .facets
                .into_iter()
                .map(|f| TagFacet {
                    id: f.tag.id,
                    name: f.tag.name,
                    count: f.count,
                })
                .collect(),
        }
    }
}
