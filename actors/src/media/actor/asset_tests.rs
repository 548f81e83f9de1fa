use super::*;
use crate::runtime::encode;

#[test]
fn an_asset_written_before_variants_reads_with_none() {
    let old = AssetV1 {
        id: "m_1".into(),
        owner: "u1".into(),
        media_type: MediaType::Png,
        size: 42,
        sha256: [3; 32],
        acl: Acl::default(),
        created_at: 1_000,
        link_key: [9; 32],
    };
    let asset = AssetEntity::upgrade(1, &encode(&old).unwrap()).unwrap();
    assert_eq!(
        (
            asset.id.as_str(),
            asset.owner.as_str(),
            asset.size,
            asset.sha256,
            asset.link_key
        ),
        ("m_1", "u1", 42, [3; 32], [9; 32])
    );
    assert!(asset.variants.is_empty());
    assert_eq!(asset.dimensions, None);
    assert!(AssetEntity::upgrade(7, b"").is_err());
}
