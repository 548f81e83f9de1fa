use super::*;

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
