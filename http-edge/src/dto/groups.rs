//! Groups: their tree, members, roles and quotas.

use super::*;
use actors::identity::groups::{GroupNode, GroupView};
use actors::identity::model::groups::{Grant, QuotaGrant};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGroupRequest {
    pub name: String,
    /// Default: a top-level group (administrators only).
    pub parent_id: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchGroupRequest {
    pub name: Option<String>,
    /// `null` moves it to the top level; absent leaves it where it is.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub parent_id: Option<Option<String>>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct GroupQuery {
    /// How many levels of descendants to list (0–5, default 0).
    pub descendants_depth: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct GroupRef {
    pub id: String,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
#[schema(no_recursion)]
pub struct GroupNodeDto {
    pub id: String,
    pub name: String,
    pub children: Vec<GroupNodeDto>,
}

impl From<&GroupNode> for GroupNodeDto {
    fn from(n: &GroupNode) -> Self {
        GroupNodeDto {
            id: n.id.clone(),
            name: n.name.clone(),
            children: n.children.iter().map(Into::into).collect(),
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct RoleGrantDto {
    pub role: String,
    /// RFC 3339; absent: never.
    pub expires_at: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct QuotaGrantDto {
    pub name: String,
    pub limit: u64,
    /// RFC 3339; absent: never.
    pub expires_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct GroupResponse {
    pub id: String,
    pub name: String,
    pub parent_id: Option<String>,
    /// Parent first.
    pub ancestors: Vec<GroupRef>,
    pub member_count: u64,
    pub roles: Vec<RoleGrantDto>,
    pub quotas: Vec<QuotaGrantDto>,
    pub descendants: Vec<GroupNodeDto>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&GroupView> for GroupResponse {
    fn from(g: &GroupView) -> Self {
        GroupResponse {
            id: g.id.clone(),
            name: g.info.name.clone(),
            parent_id: g.parent_id.clone(),
            ancestors: g
                .ancestors
                .iter()
                .map(|(id, name)| GroupRef {
                    id: id.clone(),
                    name: name.clone(),
                })
                .collect(),
            member_count: g.member_count,
            roles: g.roles.iter().map(Into::into).collect(),
            quotas: g.quotas.iter().map(Into::into).collect(),
            descendants: g.descendants.iter().map(Into::into).collect(),
            created_at: rfc3339(g.info.created_at),
            updated_at: rfc3339(g.info.updated_at),
        }
    }
}

impl From<&Grant> for RoleGrantDto {
    fn from(g: &Grant) -> Self {
        RoleGrantDto {
            role: g.role.clone(),
            expires_at: g.expires_at.map(rfc3339),
        }
    }
}

impl From<&QuotaGrant> for QuotaGrantDto {
    fn from(q: &QuotaGrant) -> Self {
        QuotaGrantDto {
            name: q.name.clone(),
            limit: q.limit,
            expires_at: q.expires_at.map(rfc3339),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupRolesRequest {
    pub roles: Vec<RoleGrantDto>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupQuotasRequest {
    pub quotas: Vec<QuotaGrantDto>,
}

#[derive(Serialize, ToSchema)]
pub struct MemberDto {
    pub user_id: String,
    pub since: String,
}

#[derive(Serialize, ToSchema)]
pub struct MemberPage {
    pub items: Vec<MemberDto>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct MemberCount {
    pub member_count: u64,
}
