use super::*;

#[tokio::test]
async fn an_identity_is_made_once_per_data_directory() {
    let storage = Storage::temporary(2).unwrap();
    let first = node_id(&storage).unwrap();
    assert_ne!(first, 0);
    assert_eq!(node_id(&storage).unwrap(), first, "kept");
    let wiped = Storage::temporary(2).unwrap();
    assert_ne!(node_id(&wiped).unwrap(), first, "a new directory, a new identity");
}
