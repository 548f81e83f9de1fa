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
            in_use: !d.used_by.is_empty(),
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
    pub created_at: String,
    pub updated_at: String,
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
