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

#[test]
fn assets_and_jobs_land_in_their_uploads_shard() {
    for shards in [1, 8, 256] {
        for n in 0..50 {
            let upload = format!("up_{n:04}");
            let media = media_id_for(&upload, shards);
            let shard = shard_of(UploadEntity::KIND, &upload, shards);
            assert_eq!(shard_of(AssetEntity::KIND, &media, shards), shard);
            let job = id_in_shard("j", "x", super::super::jobs::JobEntity::KIND, shard, shards);
            assert_eq!(shard_of(super::super::jobs::JobEntity::KIND, &job, shards), shard);
            assert_eq!(media_id_for(&upload, shards), media, "the same every time");
        }
    }
    assert_eq!(holder("m_1", None), "m_1");
    assert_eq!(holder("m_1", Some("thumb")), "m_1~thumb");
}
